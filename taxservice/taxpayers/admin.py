from django.contrib import admin

from taxservice.changes.admin import ChangeLoggedAdmin
from taxservice.taxpayers.models import Taxpayer


@admin.register(Taxpayer)
class TaxpayerAdmin(ChangeLoggedAdmin):
    list_display = ["credit_code", "name", "competent_branch", "classification", "grade"]
    list_filter = ["competent_branch", "classification", "grade"]
    search_fields = ["credit_code", "name"]
