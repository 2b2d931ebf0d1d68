def test_home_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")


def test_visits_are_counted_from_zero(client):
    client.get("/login")
    assert b"visits=2" in client.get("/login").data


def test_orders_are_stored(client):
    before = int(client.get("/orders").data)
    assert client.post("/orders", data={"item": "tea"}).status_code == 201
    assert int(client.get("/orders").data) == before + 1
