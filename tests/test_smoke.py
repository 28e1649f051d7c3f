from tests.conftest import data_of, gid


def test_customer_sees_own_ticket_without_notes(world, gql):
    result = gql(
        """query($id: ID!) { ticket(id: $id) { reference subject status
             replies(first: 10) { totalCount edges { node { body isInternalNote } } } } }""",
        {"id": gid(world.ticket)},
        user=world.customer,
    )
    ticket = data_of(result)["ticket"]
    assert ticket["reference"] == "ESC-00001"
    assert ticket["status"] == "WAITING_ON_CUSTOMER"
    bodies = [e["node"]["body"] for e in ticket["replies"]["edges"]]
    assert bodies == ["<p>Looking into it.</p>"]
    assert ticket["replies"]["totalCount"] == 1
