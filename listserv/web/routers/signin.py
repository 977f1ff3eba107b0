"""Sign-in by mailed link, and sign-out.

GET  /signin               the form (sets the pre-session cookie its CSRF token is bound to)
POST /signin               mails a link if the address is a member's; the same page either way
GET  /signin/link/{token}  a page with one button: mail scanners fetch GET links, and
                           would otherwise use up the single-use token
POST /signin/link/{token}  uses the token, opens a session, sets the session cookie
POST /signout              ends the session on the server
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from listserv.addresses import try_normalise
from listserv.web.access import (
    Context,
    Viewer,
    WebContext,
    client_address,
    csrf_protected,
    optional_viewer,
)
from listserv.web.security import new_secret, tokens_equal
from listserv.web.sessions import (
    SESSION_LIFETIME,
    SIGNIN_LINK_LIFETIME,
    LinkRequest,
    LinkSettings,
    SignedIn,
    client_limited,
    consume_link,
    end_session,
    link_is_usable,
    request_link,
    safe_next_path,
)

router = APIRouter()

# Link tokens are `secrets.token_urlsafe(32)`: 43 characters of this alphabet.
_LINK_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
TOO_MANY = (
    "There have been too many sign-in requests from here or for this address."
    " Wait a while, then try again."
)
FORM_EXPIRED = (
    "This form has expired or did not come from this site (is your browser keeping cookies"
    " for this site?). Reload the page and try again."
)
NOT_AN_ADDRESS = "That is not an e-mail address. Type the address you receive list mail at."
LINK_INVALID = (
    "This sign-in link has expired or was used already. Links work once, within"
    f" {int(SIGNIN_LINK_LIFETIME.total_seconds() // 60)} minutes. Ask for a new one."
)


def _presession(request: Request, context: WebContext) -> tuple[str, bool]:
    """The browser's pre-session secret, and whether it is new (to be set as a cookie)."""
    current = request.cookies.get(context.cookies.presession)
    if current and _LINK_TOKEN.fullmatch(current):
        return current, False
    return new_secret(), True


def _set_presession(response: Response, context: WebContext, secret: str) -> None:
    response.set_cookie(
        context.cookies.presession,
        secret,
        httponly=True,
        samesite="lax",
        secure=context.cookies.secure,
        path="/",
    )


def _check_presession_csrf(request: Request, context: WebContext, given: str) -> None:
    secret = request.cookies.get(context.cookies.presession)
    if not secret or not tokens_equal(given, context.digests.csrf_for_presession(secret)):
        raise HTTPException(403, FORM_EXPIRED)


def _form_page(
    request: Request, context: WebContext, name: str, values: dict[str, object], status: int = 200
) -> Response:
    secret, is_new = _presession(request, context)
    request.state.csrf_token = context.digests.csrf_for_presession(secret)
    response = context.pages.render(request, name, values, status_code=status)
    if is_new:
        _set_presession(response, context, secret)
    return response


@router.get("/signin")
async def signin_form(
    request: Request,
    context: Context,
    viewer: Annotated[SignedIn | None, Depends(optional_viewer)],
    next: str = "/",
    signed_out: bool = False,
) -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next_path(next), status_code=303)
    return _form_page(
        request,
        context,
        "signin.html",
        {
            "title": "Sign in",
            "next_path": safe_next_path(next),
            "signed_out": signed_out,
            "error": None,
            "email": "",
        },
    )


@router.post("/signin")
async def signin_request(
    request: Request,
    context: Context,
    email: Annotated[str, Form(max_length=320)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=400)] = "/",
) -> Response:
    _check_presession_csrf(request, context, csrf_token)
    next_path = safe_next_path(next)
    address = try_normalise(email)
    if address is None:
        return _form_page(
            request,
            context,
            "signin.html",
            {
                "title": "Sign in",
                "next_path": next_path,
                "signed_out": False,
                "error": NOT_AN_ADDRESS,
                "email": email,
            },
            status=400,
        )
    outcome = await request_link(
        context.db,
        context.digests,
        LinkSettings(
            base_url=context.settings.web.base_url,
            limits=context.limits,
            on_queued=context.on_notice_queued,
        ),
        email=address,
        client=client_address(request),
        next_path=next_path,
        now=context.now(),
    )
    if outcome is LinkRequest.LIMITED:
        raise HTTPException(429, TOO_MANY)
    minutes = int(SIGNIN_LINK_LIFETIME.total_seconds() // 60)
    return context.pages.render(
        request,
        "signin_sent.html",
        {"title": "Check your mail", "email": address, "minutes": minutes},
    )


@router.get("/signin/link/{token}")
async def signin_link(request: Request, context: Context, token: str) -> Response:
    usable = _LINK_TOKEN.fullmatch(token) is not None and await link_is_usable(
        context.db, context.digests, token, context.now()
    )
    if not usable:
        raise HTTPException(410, LINK_INVALID)
    return _form_page(request, context, "signin_link.html", {"title": "Sign in", "token": token})


@router.post("/signin/link/{token}")
async def signin_use_link(
    request: Request,
    context: Context,
    token: str,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    _check_presession_csrf(request, context, csrf_token)
    now = context.now()
    if await client_limited(
        context.db, context.digests, context.limits, client=client_address(request), now=now
    ):
        raise HTTPException(429, TOO_MANY)
    opened = None
    if _LINK_TOKEN.fullmatch(token):
        opened = await consume_link(context.db, context.digests, token, now)
    if opened is None:
        raise HTTPException(410, LINK_INVALID)
    response = RedirectResponse(opened.next_path, status_code=303)
    response.set_cookie(
        context.cookies.session,
        opened.secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=context.cookies.secure,
        path="/",
    )
    response.delete_cookie(
        context.cookies.presession, path="/", secure=context.cookies.secure, httponly=True
    )
    return response


@router.post("/signout", dependencies=[Depends(csrf_protected)])
async def signout(context: Context, viewer: Viewer) -> Response:
    await end_session(context.db, context.digests, viewer.secret)
    response = RedirectResponse("/signin?signed_out=1", status_code=303)
    response.delete_cookie(
        context.cookies.session, path="/", secure=context.cookies.secure, httponly=True
    )
    return response
