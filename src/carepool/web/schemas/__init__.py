"""What the JSON API's response schemas share (:mod:`.common`) and the frameworks' schemas.

Each capability keeps its own schemas in its ``schemas`` module, one Pydantic model per concept.

Every ``/api/v1`` route declares one of these as its response model, so the OpenAPI document
describes what the API really returns, and the CLI's ``--json`` output dumps the same models
(``model_dump(mode="json")``) so each shape is defined once. Money is integer pence in keys
ending ``_pence``; times are ISO 8601 text; exact decimals are text, never floats.
"""
