def test_login_page_renders(client):
    response = client.get("/connexion")
    assert response.status_code == 200
    assert "Connexion" in response.get_data(as_text=True)


def test_each_role_reaches_home(client, login):
    for role in ("admin", "coordinator", "physician", "gp"):
        login(role)
        response = client.get("/")
        assert response.status_code == 200, role
        client.post("/deconnexion")
