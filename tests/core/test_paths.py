"""``path_to`` builds exactly what ``reverse`` builds, and leaves anything unusual to ``reverse``."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix

from apps.core.paths import path_to


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("registry:model_detail", 1),
        ("registry:model_detail", 987654321),
        ("registry:version_detail", "42"),
        ("projects:project_detail", "credit-risk"),
        ("projects:project_detail", "a_b-9"),
        ("monitoring:monitor_detail", 7),
    ],
)
def test_the_path_is_the_one_reverse_gives(name: str, value: object) -> None:
    assert path_to(name, value) == reverse(name, args=[value])


def test_slugs_and_ids_take_the_fast_way() -> None:
    from apps.core.paths import _halves

    assert _halves("projects:project_detail", "/")[2].pattern == "[-a-zA-Z0-9_]+"  # type: ignore[index]
    assert _halves("registry:model_detail", "/")[2].pattern == "[0-9]+"  # type: ignore[index]


def test_a_script_prefix_is_kept() -> None:
    set_script_prefix("/signet/")
    try:
        assert path_to("registry:model_detail", 5) == reverse("registry:model_detail", args=[5])
        assert path_to("registry:model_detail", 5).startswith("/signet/")
    finally:
        set_script_prefix("/")


@pytest.mark.parametrize("value", ["", "-1", "1/../2", "x y", "é"])
def test_what_the_converter_refuses_is_refused_as_reverse_refuses_it(value: str) -> None:
    with pytest.raises(NoReverseMatch):
        path_to("registry:model_detail", value)


def test_a_slug_with_other_characters_goes_through_reverse() -> None:
    with pytest.raises(NoReverseMatch):
        path_to("projects:project_detail", "not a slug")


def test_the_template_tag_gives_the_same_link() -> None:
    rendered = Template("{% load signet %}{% path_to 'registry:model_detail' pk %}").render(Context({"pk": 3}))
    assert rendered == reverse("registry:model_detail", args=[3])
