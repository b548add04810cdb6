"""First start: the default admin must change its password before anything else."""

from fastapi.testclient import TestClient

from tests.conftest import auth, create_user, login


def test_first_login_forces_password_change(client: TestClient) -> None:
    token = login(client, "admin", "admin")
    r = client.get("/api/v1/settings", headers=auth(token))
    assert r.status_code == 403
    assert r.json()["code"] == "MUST_CHANGE_PASSWORD"
    assert client.get("/api/v1/health").status_code == 200
    r = client.post(
        "/api/auth/change-password",
        json={"currentPassword": "admin", "newPassword": "a-much-better-one"},
        headers=auth(token),
    )
    assert r.status_code == 200
    r = client.get("/api/v1/settings", headers=auth(token))
    assert r.status_code == 200
    assert r.json()["settings"]["enableExperimentalTools"] == "false"


def test_user_cannot_list_users(admin: TestClient) -> None:
    token = create_user(admin, "alice")
    r = admin.get("/api/auth/users", headers=auth(token))
    assert r.status_code == 403
    assert r.json() == {"error": "Missing permission: users:manage", "code": "FORBIDDEN"}
