from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from dmp.estimator import BIT_DEPTHS, AcquisitionPlan, Tier

CUSTOM = "custom"


class EstimateForm(forms.Form):
    """The acquisition plan of the estimator; limits are generous but stop typos of 10⁹."""

    sessions_per_year = forms.IntegerField(
        label="Imaging sessions per year", min_value=1, max_value=10_000, initial=40
    )
    positions = forms.IntegerField(
        label="Positions (fields of view) per session", min_value=1, max_value=1_000_000, initial=20
    )
    channels = forms.IntegerField(label="Channels", min_value=1, max_value=1_000, initial=3)
    z_slices = forms.IntegerField(label="Z-slices", min_value=1, max_value=100_000, initial=50)
    time_points = forms.IntegerField(label="Time points", min_value=1, max_value=1_000_000, initial=1)
    width = forms.IntegerField(label="Image width (pixels)", min_value=1, max_value=1_000_000, initial=2048)
    height = forms.IntegerField(label="Image height (pixels)", min_value=1, max_value=1_000_000, initial=2048)
    bit_depth = forms.TypedChoiceField(
        label="Bit depth",
        choices=[(depth, f"{depth}-bit") for depth in BIT_DEPTHS],
        coerce=int,
        initial=16,
        help_text="12-bit cameras store each pixel in 2 bytes, like 16-bit ones.",
    )
    compression = forms.FloatField(
        label="Compression ratio (raw ÷ stored)",
        min_value=1,
        max_value=100,
        initial=1.0,
        help_text="1 for uncompressed; lossless compression of microscopy data often gives 1.5–3.",
    )
    project_years = forms.FloatField(
        label="Project duration (years)", min_value=0.25, max_value=50, initial=4
    )
    retention_years = forms.FloatField(
        label="Retention after the project (years)",
        min_value=0,
        max_value=100,
        initial=10,
        help_text="Most funders and institutions ask for at least 10 years.",
    )
    copies = forms.IntegerField(
        label="Copies kept", min_value=1, max_value=5, initial=2, help_text="The primary copy plus backups."
    )
    tier = forms.ChoiceField(label="Storage tier")
    price_per_tb_year = forms.FloatField(
        label="Price per TB-year (custom tier)", min_value=0, max_value=1_000_000, required=False
    )
    currency = forms.CharField(label="Currency (custom tier)", max_length=3, required=False, initial="EUR")

    def __init__(self, *args: Any, tiers: list[Tier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tiers = tiers
        tier_field = self.fields["tier"]
        if isinstance(tier_field, forms.ChoiceField):  # narrows the type for the checker
            tier_field.choices = [
                (str(index), f"{tier.name} — {tier.price_per_tb_year:g} {tier.currency} per TB-year")
                for index, tier in enumerate(tiers)
            ] + [(CUSTOM, "Another price (enter it below)")]
        self.fields["tier"].initial = "0" if tiers else CUSTOM

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("tier") == CUSTOM:
            if data.get("price_per_tb_year") is None:
                self.add_error("price_per_tb_year", "Enter the price per TB-year, or choose a facility tier.")
            currency = str(data.get("currency") or "").strip().upper()
            if len(currency) != 3 or not currency.isalpha():
                self.add_error("currency", "Enter a three-letter currency code such as EUR.")
            data["currency"] = currency
        return data

    def acquisition_plan(self) -> AcquisitionPlan:
        data = self.cleaned_data
        if data["tier"] == CUSTOM:
            price, currency = float(data["price_per_tb_year"]), data["currency"]
        else:
            try:
                tier = self.tiers[int(data["tier"])]
            except (ValueError, IndexError):
                raise ValidationError("That storage tier no longer exists; choose again.") from None
            price, currency = tier.price_per_tb_year, tier.currency
        return AcquisitionPlan(
            sessions_per_year=data["sessions_per_year"],
            positions=data["positions"],
            channels=data["channels"],
            z_slices=data["z_slices"],
            time_points=data["time_points"],
            width=data["width"],
            height=data["height"],
            bit_depth=data["bit_depth"],
            compression=data["compression"],
            project_years=data["project_years"],
            retention_years=data["retention_years"],
            copies=data["copies"],
            price_per_tb_year=price,
            currency=currency,
        )

    @classmethod
    def initial_from(cls, saved: dict[str, Any], tiers: list[Tier]) -> dict[str, Any]:
        """Form values from the inputs a plan remembers (its tier found again by price)."""
        initial = {key: value for key, value in saved.items() if key in cls.base_fields}
        if saved:
            match = next(
                (
                    str(index)
                    for index, tier in enumerate(tiers)
                    if (tier.price_per_tb_year, tier.currency)
                    == (saved.get("price_per_tb_year"), saved.get("currency"))
                ),
                CUSTOM,
            )
            initial["tier"] = match
        return initial
