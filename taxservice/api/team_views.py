"""API v1 for custom teams (专属团队): `GET/POST /teams/` and `POST /teams/{id}/members/`.
A branch chief for their branch scope, or an administrator (taxservice/workflow/routing/teams.py).
Routing items to a custom team is a routing rule with the target `team` (`/routing/rules/`)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from taxservice.api.absence_views import AbsenceErrorSerializer
from taxservice.api.permissions import request_staff
from taxservice.org.models import Team
from taxservice.pagination import IdFirstPageNumberPagination
from taxservice.workflow.routing import teams

ERRORS = {
    400: OpenApiResponse(
        AbsenceErrorSerializer, description="Bad input (`invalid` with `fields`); nothing is written."
    ),
    403: OpenApiResponse(AbsenceErrorSerializer, description="Not a branch chief or an administrator."),
    404: OpenApiResponse(AbsenceErrorSerializer, description="Another branch's branch or team."),
}


class TeamMemberRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TeamWithMembersSerializer(serializers.ModelSerializer):
    branch = serializers.CharField(source="branch.code")
    branch_name = serializers.CharField(source="branch.name")
    members = TeamMemberRefSerializer(many=True)

    class Meta:
        model = Team
        fields = ["id", "code", "name", "kind", "tier", "branch", "branch_name", "members"]


class TeamRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=teams.NAME_MAX)
    branch = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="The tax-source branch's code; a chief's own branch by default.",
    )
    members = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Staff ids of the branch's own staff."
    )


class MembersRequestSerializer(serializers.Serializer):
    members = serializers.ListField(child=serializers.IntegerField(), min_length=1)


class TeamListView(generics.GenericAPIView):
    """The back-office teams of the branches I manage, and adding a custom team."""

    serializer_class = TeamWithMembersSerializer
    pagination_class = IdFirstPageNumberPagination
    queryset = Team.objects.none()

    @extend_schema(responses={200: TeamWithMembersSerializer(many=True), 403: ERRORS[403]})
    def get(self, request):
        page = self.paginate_queryset(teams.team_list(actor=request_staff(request)))
        return self.get_paginated_response(TeamWithMembersSerializer(page, many=True).data)

    @extend_schema(request=TeamRequestSerializer, responses={201: TeamWithMembersSerializer, **ERRORS})
    def post(self, request):
        data = TeamRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        team = teams.team_create(
            actor=request_staff(request),
            branch=values.get("branch", ""),
            name=values["name"],
            members=values.get("members", []),
        )
        return Response(TeamWithMembersSerializer(team).data, status=status.HTTP_201_CREATED)


class TeamMembersView(APIView):
    """Add members (staff of the team's branch) to a custom team."""

    @extend_schema(request=MembersRequestSerializer, responses={200: TeamWithMembersSerializer, **ERRORS})
    def post(self, request, team_id):
        data = MembersRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = teams.team_add_members(
            actor=request_staff(request), team_id=team_id, members=data.validated_data["members"]
        )
        return Response(TeamWithMembersSerializer(team).data)
