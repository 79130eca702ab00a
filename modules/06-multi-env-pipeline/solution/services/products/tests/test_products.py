import pytest
from conftest import SECRET
from shop_shared.auth import issue_token


def test_list_seeds_the_catalogue_on_first_read(products, table, get):
    status, body = get("/products")
    assert status == 200
    assert len(body["products"]) >= 5
    for product in body["products"]:
        assert set(product) == {"sku", "name", "price"}
        assert isinstance(product["price"], int) and product["price"] > 0
    assert table.scan()["Count"] == len(products.CATALOGUE)


def test_seeding_is_idempotent(products, get):
    get("/products")
    products._seeded = False  # as a new execution environment would
    status, body = get("/products")
    assert status == 200
    assert len(body["products"]) == len(products.CATALOGUE)


def test_seeding_leaves_a_filled_table_alone(table, get):
    table.put_item(Item={"sku": "only-one", "name": "Only one", "price": 100})
    status, body = get("/products")
    assert [p["sku"] for p in body["products"]] == ["only-one"]


def test_get_product(get):
    assert get("/products/lambda-tee") == (200, {"sku": "lambda-tee", "name": "Lambda T-shirt", "price": 2500})


def test_get_unknown_product_is_404(get):
    status, body = get("/products/no-such-sku")
    assert status == 404 and "not found" in body["message"]


def test_the_catalogue_is_public_but_a_valid_token_is_fine(get):
    assert get("/products")[0] == 200
    assert get("/products/lambda-tee", token=issue_token("alice", SECRET))[0] == 200


@pytest.mark.parametrize("token", [issue_token("alice", SECRET, -1), issue_token("alice", "other-secret"), "garbage"])
def test_a_bad_token_is_refused_even_here(get, token):
    for path in ("/products", "/products/lambda-tee"):
        status, body = get(path, token=token)
        assert status == 401 and body["message"]
