"""API v1 for webhook subscriptions (docs/outbox-and-webhooks.md): `GET/POST /webhooks/`,
`DELETE /webhooks/{id}/`, `GET /webhooks/{id}/deliveries/` and
`POST /webhooks/deliveries/{id}/replay/`. Integrators and administrators, each their own
subscriptions; anyone else's is 404. Views parse, call `webhooks.services` / `selectors`
and render; refusals are JSON with a `code` (taxservice/api/errors.py)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from taxservice.api.permissions import request_staff
from taxservice.pagination import IdFirstPageNumberPagination
from taxservice.webhooks import selectors, services
from taxservice.webhooks.models import Event, WebhookDelivery, WebhookSubscription


class WebhookErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable: `invalid`, `invalid_url`, `url_not_allowed`, `url_unresolvable`, "
        "`invalid_events`, `too_many_subscriptions`, `already_deleted`, `subscription_deleted`, "
        "`permission_denied`, `not_found`, …"
    )
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


_403 = OpenApiResponse(WebhookErrorSerializer, description="Not an integrator or an administrator.")
_404 = OpenApiResponse(WebhookErrorSerializer, description="No such subscription or delivery of the caller's.")
_409 = OpenApiResponse(WebhookErrorSerializer, description="The subscription is already deleted.")
LIST_ERRORS = {403: _403}
CREATE_ERRORS = {
    400: OpenApiResponse(WebhookErrorSerializer, description="Bad URL or events; nothing is written."),
    403: _403,
    409: OpenApiResponse(WebhookErrorSerializer, description="Too many active subscriptions."),
}
ITEM_ERRORS = {403: _403, 404: _404}
CHANGE_ERRORS = {403: _403, 404: _404, 409: _409}


class SubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=Event.choices))

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "active", "created_at"]


class CreatedSubscriptionSerializer(SubscriptionSerializer):
    secret = serializers.CharField(
        help_text="Signs every delivery (X-Taxservice-Signature). Shown only in this answer: keep it."
    )

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class SubscriptionRequestSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500, help_text="Where to POST the events (http or https).")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices), min_length=1, max_length=len(Event.choices)
    )


class DeliverySerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(
        choices=["pending", "delivered", "failed"], read_only=True, help_text="Failed: given up after the last attempt."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event_id",
            "event",
            "payload",
            "state",
            "attempts",
            "last_status",
            "last_error",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
            "failed_at",
            "replay_of",
        ]


class SubscriptionListView(generics.GenericAPIView):
    """The caller's webhook subscriptions (newest first), and subscribing a URL."""

    serializer_class = SubscriptionSerializer
    pagination_class = IdFirstPageNumberPagination
    queryset = WebhookSubscription.objects.none()

    @extend_schema(responses={200: SubscriptionSerializer(many=True), **LIST_ERRORS})
    def get(self, request):
        rows = selectors.subscription_list(actor=request_staff(request))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SubscriptionSerializer(page, many=True).data)

    @extend_schema(
        request=SubscriptionRequestSerializer, responses={201: CreatedSubscriptionSerializer, **CREATE_ERRORS}
    )
    def post(self, request):
        staff = request_staff(request)
        selectors.subscription_list(actor=staff)  # 403 before a 400
        data = SubscriptionRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription, secret = services.subscription_create(actor=staff, **data.validated_data)
        body = {**SubscriptionSerializer(subscription).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class SubscriptionDetailView(APIView):
    """Delete a subscription: nothing more is delivered; its delivery log stays readable."""

    @extend_schema(request=None, responses={204: None, **CHANGE_ERRORS})
    def delete(self, request, subscription_id):
        services.subscription_delete(actor=request_staff(request), subscription_id=subscription_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListView(generics.GenericAPIView):
    """A subscription's deliveries, newest first: attempts, last status and error."""

    serializer_class = DeliverySerializer
    pagination_class = IdFirstPageNumberPagination
    queryset = WebhookDelivery.objects.none()

    @extend_schema(responses={200: DeliverySerializer(many=True), **ITEM_ERRORS})
    def get(self, request, subscription_id):
        rows = selectors.delivery_list(actor=request_staff(request), subscription_id=subscription_id)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


class DeliveryReplayView(APIView):
    """Send a delivery's event again: a new delivery with the same event id."""

    @extend_schema(request=None, responses={202: DeliverySerializer, **CHANGE_ERRORS})
    def post(self, request, delivery_id):
        delivery = services.replay(actor=request_staff(request), delivery_id=delivery_id)
        delivery.refresh_from_db()  # in-process delivery (the embedded setup) may have run already
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
