def test_home_renders_for_advisor(client_for, advisor):
    response = client_for(advisor).get("/")
    assert response.status_code == 200
    assert "我的客户" in response.content.decode() or "Customers in my book" in response.content.decode()
