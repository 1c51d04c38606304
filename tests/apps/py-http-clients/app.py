"""Outbound HTTP with the libraries Python code already uses: urllib.request,
http.client and requests (from requirements.txt), inside a `spin py2wasm`
component. `/<library>?url=...[&timeout=seconds]` fetches the URL and
answers `<status> <body>`, or 502 with the error's type and text.
`/socket?host=...&port=...&send=...` sends `send` over a TCP socket
(`socket.create_connection`; the host looks no names up) and answers what
came back first."""

import http.client
import socket
import urllib.request
from urllib.parse import parse_qs, urlsplit

import requests
from spin_http import Response


def fetch_urllib(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


def fetch_http_client(url, timeout):
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=timeout)
    connection.request("GET", parts.path or "/")
    response = connection.getresponse()
    return response.status, response.read()


def fetch_requests(url, timeout):
    response = requests.get(url, timeout=timeout)
    return response.status_code, response.content


def fetch_requests_streamed(url, timeout):
    with requests.get(url, stream=True, timeout=timeout) as response:
        return response.status_code, b"|".join(response.iter_content(chunk_size=8))


def post_requests(url, timeout):
    response = requests.post(url, json={"n": 1}, timeout=timeout)
    return response.status_code, response.content


ROUTES = {
    "/urllib": fetch_urllib,
    "/http-client": fetch_http_client,
    "/requests": fetch_requests,
    "/requests-stream": fetch_requests_streamed,
    "/requests-post": post_requests,
}


def over_socket(query):
    with socket.create_connection((query["host"][0], int(query["port"][0])), timeout=5) as conn:
        conn.sendall(query["send"][0].encode())
        return conn.recv(1024)


def handle_request(request):
    parts = urlsplit(request.uri)
    if parts.path == "/socket":
        try:
            return Response(200, {}, over_socket(parse_qs(parts.query)))
        except Exception as error:  # noqa: BLE001 - the test reads the error
            return Response(502, {}, f"{type(error).__name__}: {error}".encode())
    fetch = ROUTES.get(parts.path)
    if fetch is None:
        return Response(404, {}, b"no such route")
    query = parse_qs(parts.query)
    url = query["url"][0]
    timeout = float(query.get("timeout", ["5"])[0])
    try:
        status, body = fetch(url, timeout)
    except Exception as error:  # noqa: BLE001 - the test reads the error
        return Response(502, {}, f"{type(error).__name__}: {error}".encode())
    return Response(200, {}, f"{status} ".encode() + body)
