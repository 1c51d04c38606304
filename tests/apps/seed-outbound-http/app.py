from spin_http import Request, Response, http_send
from os import environ


def handle_request(request):

    response = http_send(
        Request("GET", "http://127.0.0.1:47611/facts/dog", [], None))

    return Response(200,
                    [("content-type", "text/plain")],
                    bytes(f"Here is a dog fact: {str(response.body, 'utf-8')}, the environment: {environ}", "utf-8"))
