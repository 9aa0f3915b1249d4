"""Small data sets shipped with rmodels (for the demo and examples)."""

from __future__ import annotations

from importlib import resources

import pandas as pd


def load(name: str) -> pd.DataFrame:
    """Load a bundled data set by name: ``"listings"`` (synthetic short-term rentals:
    price, stars, borough, neighborhood, room_type, reviews, booked)."""
    if name != "listings":
        raise ValueError(f"unknown data set '{name}' (available: 'listings')")
    with resources.files("rmodels").joinpath("data", f"{name}.csv").open("r") as fh:
        return pd.read_csv(fh)
