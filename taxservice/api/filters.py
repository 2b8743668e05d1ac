import django_filters

from taxservice.catalogue.models import HandlingList, Item
from taxservice.catalogue.selectors import item_search
from taxservice.org.models import Tier
from taxservice.workflow.cases.models import Task, TaskState


class ItemFilter(django_filters.FilterSet):
    list = django_filters.ChoiceFilter(field_name="handling_list", choices=HandlingList.choices)
    tier = django_filters.ChoiceFilter(choices=Tier.choices)
    moved_forward = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="search", label="code starts with, or name contains (any case)")

    class Meta:
        model = Item
        fields = ["list", "tier", "moved_forward"]

    def search(self, queryset, name, value):
        return queryset.filter(pk__in=item_search(query=value).values("pk"))


class TaskFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=TaskState.choices)
    tier = django_filters.ChoiceFilter(choices=Tier.choices)
    team = django_filters.CharFilter(field_name="team__code", label="team code")
    assignee = django_filters.NumberFilter(field_name="assignee_id", label="staff id")
    item = django_filters.CharFilter(field_name="item__code", label="item code")
    taxpayer = django_filters.CharFilter(field_name="taxpayer__credit_code", label="credit code")

    class Meta:
        model = Task
        fields = ["state", "tier", "team", "assignee", "item", "taxpayer"]
