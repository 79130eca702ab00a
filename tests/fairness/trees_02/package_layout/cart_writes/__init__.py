"""The cart's write API: a FastAPI app in a package (api.py) over its storage (storage.py)."""
