"""REST API for ontology terms (/api/v1/terms/): search and look-up, for any signed-in user."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from vocabularies import selectors
from vocabularies.models import Ontology, OntologyTerm
from vocabularies.search import normalize


class TermSerializer(serializers.ModelSerializer[OntologyTerm]):
    synonyms = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = OntologyTerm
        fields = ["id", "ontology", "curie", "iri", "label", "synonyms", "definition"]
        read_only_fields = fields


QUERY_HELP = (
    f"Text to look for in labels, synonyms and short ids (at least {selectors.MIN_QUERY_LENGTH} "
    "letters or digits; case and punctuation are ignored)."
)


class TermQuerySerializer(serializers.Serializer[dict[str, Any]]):
    q = serializers.CharField(
        min_length=selectors.MIN_QUERY_LENGTH,
        max_length=200,
        help_text=QUERY_HELP,
        error_messages={"required": QUERY_HELP, "blank": QUERY_HELP, "min_length": QUERY_HELP},
    )
    ontology = serializers.ListField(
        child=serializers.ChoiceField(
            choices=Ontology.choices,
            error_messages={
                "invalid_choice": f"Unknown ontology “{{input}}”; choose from {', '.join(Ontology.values)}."
            },
        ),
        required=False,
        help_text="Only these ontologies: repeat the parameter or separate names with commas.",
    )
    limit = serializers.IntegerField(min_value=1, max_value=selectors.MAX_LIMIT, default=20)

    def validate_q(self, value: str) -> str:
        if len(normalize(value)) < selectors.MIN_QUERY_LENGTH:
            raise serializers.ValidationError(QUERY_HELP)
        return value


class TermViewSet(viewsets.ReadOnlyModelViewSet[OntologyTerm]):
    """Ontology terms: imaging methods (FBbi, EDAM-bioimaging), file formats (EDAM, FAIRlight),
    organisms (NCBITaxon) and licences (SPDX). Listing searches and needs ``q``; results come best
    first (exact label, exact synonym or id, label prefix, synonym prefix, word prefix, substring)
    and leave out obsolete terms."""

    serializer_class = TermSerializer
    queryset = OntologyTerm.objects.all()
    pagination_class = None  # a ranked search answers with its best `limit` terms, not pages

    @extend_schema(
        parameters=[TermQuerySerializer],
        responses={
            200: TermSerializer(many=True),
            400: OpenApiResponse(
                description="q is missing or too short, an ontology is unknown or limit is out of range."
            ),
        },
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data: dict[str, Any] = {
            key: request.query_params[key] for key in ("q", "limit") if key in request.query_params
        }
        data["ontology"] = [
            name.strip()
            for value in request.query_params.getlist("ontology")
            for name in value.split(",")
            if name.strip()
        ]
        params = TermQuerySerializer(data=data)
        params.is_valid(raise_exception=True)
        terms = selectors.term_search(
            params.validated_data["q"],
            ontologies=params.validated_data.get("ontology") or None,
            limit=params.validated_data["limit"],
        )
        return Response(self.get_serializer(terms, many=True).data)
