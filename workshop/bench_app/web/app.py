from aws_lambda_powertools import Logger, Metrics, Tracer
from fastapi import FastAPI
from mangum import Mangum

logger = Logger(service="bench")
metrics = Metrics(namespace="bench", service="bench")
tracer = Tracer(service="bench", disabled=True)
app = FastAPI()


@app.get("/web/items/{item_id}")
def read_item(item_id: str) -> dict:
    return {"item": item_id}


@app.post("/web/items/{item_id}")
def write_item(item_id: str) -> dict:
    return {"item": item_id, "written": True}


handler = logger.inject_lambda_context(Mangum(app, lifespan="off"))
