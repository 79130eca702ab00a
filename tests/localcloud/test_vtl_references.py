"""`$input.path` hands out references into the payload, as API Gateway's VTL does.

API Gateway documents `$input.path(x)` as returning "a JSON object representation of the result",
which "allows you to access and manipulate elements of the payload natively in Apache Velocity
Template Language" (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html):
the object is the payload's own, so a `#set` on one of its fields is what a later `$input.json`
of that payload renders (the common way to add a field to a body before passing it on).
"""

from __future__ import annotations

import json

from workshop.localcloud import vtl

BODY = json.dumps({"order": {"sku": "SKU-1", "quantity": 2}, "lines": [{"sku": "a"}, {"sku": "b"}]})


def render(template: str) -> str:
    return vtl.render(template, body=BODY, params={}, context={})


def test_a_set_on_a_field_of_input_path_shows_in_input_json():
    out = render("#set($order = $input.path('$.order'))#set($order.status = 'PENDING')$input.json('$.order')")
    assert json.loads(out) == {"sku": "SKU-1", "quantity": 2, "status": "PENDING"}


def test_a_field_added_to_the_whole_body_is_passed_on():
    out = render("#set($body = $input.path('$'))#set($body.source = 'api')$input.json('$')")
    assert json.loads(out)["source"] == "api" and json.loads(out)["order"]["sku"] == "SKU-1"


def test_the_matches_of_a_wildcard_path_are_references_too():
    out = render("#foreach($line in $input.path('$.lines[*]'))#set($line.seen = true)#end$input.json('$.lines')")
    assert json.loads(out) == [{"sku": "a", "seen": True}, {"sku": "b", "seen": True}]


def test_each_render_starts_from_the_payload_as_it_came():
    render("#set($order = $input.path('$.order'))#set($order.status = 'PENDING')")
    assert "status" not in render("$input.json('$.order')")
