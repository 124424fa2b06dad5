"""Forms of the agency screens: what an operator enters; the services check
everything else."""

from django import forms
from django.contrib.admin import widgets
from django.utils.translation import gettext_lazy as _

from cases.agencies.models import Agency
from cases.models import default_bucket_labels


class PlaceForm(forms.Form):
    agency = forms.ModelChoiceField(queryset=Agency.objects.none(), label=_("agency"))
    start_on = forms.DateField(label=_("placed from"), widget=widgets.AdminDateWidget)
    end_on = forms.DateField(label=_("placed until"), widget=widgets.AdminDateWidget)
    instructions = forms.CharField(label=_("shared instructions"), required=False, widget=forms.Textarea)
    share_contact_history = forms.BooleanField(label=_("share the lender's contact history"), required=False)
    reason = forms.CharField(label=_("reason"), max_length=100)

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies.filter(active=True)


class PlaceByRuleForm(PlaceForm):
    """A placement rule: bucket, balance band, region, product (empty: any)."""

    buckets = forms.MultipleChoiceField(label=_("buckets"), required=False)
    min_balance = forms.DecimalField(label=_("balance from"), required=False, max_digits=18, decimal_places=2)
    max_balance = forms.DecimalField(
        label=_("balance up to"), required=False, max_digits=18, decimal_places=2
    )
    regions = forms.CharField(label=_("regions (comma-separated)"), required=False)
    products = forms.ModelMultipleChoiceField(queryset=None, label=_("products"), required=False)
    limit = forms.IntegerField(label=_("at most this many cases"), required=False, min_value=1)

    def __init__(self, *args, agencies, products, **kwargs):
        super().__init__(*args, agencies=agencies, **kwargs)
        self.fields["buckets"].choices = [(b, b) for b in default_bucket_labels() if b != "current"]
        self.fields["products"].queryset = products

    def clean_regions(self):
        return [r.strip() for r in self.cleaned_data["regions"].split(",") if r.strip()]


class RecallForm(forms.Form):
    on = forms.DateField(label=_("last day with the agency"), widget=widgets.AdminDateWidget)
    reason = forms.CharField(label=_("reason"), max_length=100)


class MonthForm(forms.Form):
    month = forms.DateField(
        label=_("month"), input_formats=["%Y-%m"], widget=forms.TextInput(attrs={"placeholder": "YYYY-MM"})
    )


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("period starts"), widget=widgets.AdminDateWidget)
    end = forms.DateField(label=_("period ends"), widget=widgets.AdminDateWidget)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(_("The period cannot end before it starts."))
        return data
