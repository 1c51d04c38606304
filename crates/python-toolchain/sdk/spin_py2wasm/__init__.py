"""Support code shared by the `spin_*` modules of the `spin py2wasm` SDK.

Nothing here is meant to be imported by applications: the public API is the
set of top-level modules `spin_http`, `spin_config`, `spin_redis`,
`spin_key_value`, `spin_sqlite` and `spin_llm`, which reproduce the 2023
py2wasm SDK, plus `spin_postgres`, `spin_mysql` and `spin_mqtt`, all on top
of Spin's `fermyon:spin@2.0.0` and `wasi:http@0.2.0` interfaces.
"""
