"""The service: the HTTP API (DESIGN §10), and the web pages to come, over one shared ledger.

`service.app.create_app()` builds the Litestar application; `mission-ledger serve` runs it on
uvicorn. Every rule of who may do what is decided in the application layer (ledger.identity,
ledger.domain.access, MissionLedger.authorize_*); this package only says it in HTTP.
"""
