"""The frontend adapter's route fixture still says what Django serves (regenerate it with
``python -m tests.route_fixture``). Routes added since are fine; a route whose URI or
parameters changed, or that is gone, is not. Methods are not compared: route() does not read
them."""

import json

from tests.route_fixture import FIXTURE, live_table


def test_every_route_in_the_adapter_fixture_is_served_as_written():
    fixture = json.loads(FIXTURE.read_text())
    live = live_table()

    assert {k: v for k, v in fixture.items() if k != "routes"} == {
        k: v for k, v in live.items() if k != "routes"
    }

    def used(route: dict | None) -> tuple | None:
        return None if route is None else (route["uri"], route["parameters"])

    changed = {
        name: (used(route), used(live["routes"].get(name)))
        for name, route in fixture["routes"].items()
        if used(live["routes"].get(name)) != used(route)
    }
    assert changed == {}, "run: python -m tests.route_fixture"
