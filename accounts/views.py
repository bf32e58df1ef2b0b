from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.forms import ApiTokenForm, LoginForm, ProfileForm, SignupForm
from accounts.requests import authenticated_user
from accounts.services import api_token_create, api_token_revoke


class LoginView(auth_views.LoginView):
    """Django's login page with the rate-limited form; a refusal for too many failures is a 429."""

    authentication_form = LoginForm

    def form_invalid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, code="rate_limited"):
            response.status_code = 429
        return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile was saved.")
        return redirect("profile")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "token_form": ApiTokenForm(), "tokens": user.api_tokens.all()},
    )


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "accounts/profile.html",
            {"form": ProfileForm(instance=user), "token_form": form, "tokens": user.api_tokens.all()},
            status=400,
        )
    token, key = api_token_create(user=user, name=form.cleaned_data["name"])
    return render(request, "accounts/token_created.html", {"token": token, "key": key})


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if api_token_revoke(user=authenticated_user(request), token_id=pk):
        messages.success(request, "The token was revoked; clients using it are refused from now on.")
    return redirect("profile")


def signup(request: HttpRequest) -> HttpResponse:
    if not settings.FAIRLIGHT_ALLOW_SIGNUP:
        raise PermissionDenied("Sign-up is closed on this site; ask a project manager for an invitation.")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    form = SignupForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to FAIRlight. Add your ORCID iD on your profile.")
        return redirect(next_url or reverse("dashboard"))
    return render(request, "registration/signup.html", {"form": form, "next": next_url})
