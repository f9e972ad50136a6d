"""Properties of the permission matrix itself, over every role combination a caller can hold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reelshop.security import permissions
from reelshop.security.permissions import (
    MATRIX,
    OWNED,
    ROLES,
    STAFF_ONLY,
    STAFF_ROLES,
    Action,
    Ownership,
    Resource,
    reach,
)

NON_STAFF = ("anonymous", "shopper", "seller", "creator")
actions = st.sampled_from(list(Action))
resources = st.sampled_from(list(Resource))
non_staff_sets = st.sets(st.sampled_from(NON_STAFF), min_size=1)
staff_sets = st.sets(st.sampled_from(STAFF_ROLES), min_size=1)


def test_every_role_is_in_the_matrix_and_only_those() -> None:
    assert set(MATRIX) == set(ROLES)


@given(non_staff_sets, actions, resources)
def test_no_non_staff_role_ever_gets_a_staff_resource(
    roles: set[str], action: Action, resource: Resource
) -> None:
    if resource in STAFF_ONLY:
        assert reach(roles, action, resource) is None


@given(non_staff_sets, actions, resources)
def test_ownership_scoped_resources_never_reach_anybody_outside_staff(
    roles: set[str], action: Action, resource: Resource
) -> None:
    granted = reach(roles, action, resource)
    if resource in OWNED and granted is not None:
        assert granted < Ownership.ANY


@given(staff_sets, actions, resources)
def test_admin_holds_at_least_what_any_staff_permission_holds(
    roles: set[str], action: Action, resource: Resource
) -> None:
    granted = reach(roles, action, resource)
    admin = reach({"staff:admin"}, action, resource)
    if granted is not None:
        assert admin is not None and admin >= granted


@given(st.sets(st.sampled_from(ROLES)), st.sets(st.sampled_from(ROLES)), actions, resources)
def test_more_roles_never_reach_less(
    some: set[str], more: set[str], action: Action, resource: Resource
) -> None:
    """Reach is monotone in the set of roles: adding a role never takes a grant away."""
    smaller = reach(some, action, resource)
    larger = reach(some | more, action, resource)
    if smaller is not None:
        assert larger is not None and larger >= smaller


@given(actions)
def test_anonymous_only_reads_public_things_or_starts_a_session(action: Action) -> None:
    for resource in Resource:
        granted = reach({"anonymous"}, action, resource)
        if granted is None:
            continue
        assert resource not in OWNED
        if action is not Action.READ:
            assert resource in {Resource.SESSION, Resource.WEBHOOK}


def test_every_declared_route_names_a_grant_some_role_holds() -> None:
    for (method, path), (action, resource) in permissions.ROUTES.items():
        assert reach(ROLES, action, resource) is not None, f"{method} {path} is open to nobody"


def test_reads_never_declared_on_writes() -> None:
    """A state-changing route never declares a mere read (a cheap way to under-guard it)."""
    for (method, path), (action, _) in permissions.ROUTES.items():
        if method in {"POST", "PUT", "PATCH", "DELETE"}:
            assert action is not Action.READ, f"{method} {path} declares a read"
