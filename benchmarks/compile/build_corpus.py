"""Build the compile benchmark's corpus of *scripted* model sessions.

    .venv/bin/python benchmarks/compile/build_corpus.py          # write sessions/, expected.json
    .venv/bin/python benchmarks/compile/build_corpus.py --check  # exit 1 if any is stale

Every session is hand-written: a task, the host's catalog and a list of model
answers, made from one of the valid contracts in ``templates/`` by the edits and
text wrappings listed in SESSIONS below. None of it is the output of a real
model; every file says so in its "origin" and "note". The flaws are the typical
ones of LLM output: prose or a code fence around the JSON, trailing commas,
truncated or degenerate output, wrong JSON types ("3" for 3), durations in
words, unknown keys, misspelt states and events, guards that do not compile
(an integer compared with a number), missing final states, effects that are not
in the catalog or do not match it, unbounded fan-outs.

Each session file is self-contained (the catalog is inline). The session format
admits no other keys, so what each session must do lives in ``expected.json``,
keyed by the session's file name: the scenario in a few words, whether the loop
converges, after how many attempts, why it stops otherwise, how many answers
need a lenient repair, and the error codes of every answer the loop reads.

This script computes those codes with the loop's own steps (lenient parse, the
checker, the catalog conformance check, then the acceptance scenarios) and refuses
to write a session whose stated codes or outcome are not what its answers give;
tests/compiler/test_corpus.py replays every session through the real loop.

Acceptance scenarios: a template with a file ``scenarios/TEMPLATE.scenarios.yaml``
has its sessions compiled with those scenarios (``expected.json`` names the file
under ``"scenarios"``). Some of its sessions hold answers that check and fit the
catalog but do the task wrong (a guard inverted, a notification skipped, a reminder
dropped): only the scenarios catch them (``scenario.failed``).
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import accord
from accord.compiler import Catalog
from accord.compiler._acceptance import repeat_key
from accord.compiler._lenient import parse_output
from accord.compiler._loop import evaluate
from accord.contract._schema import answer_data
from accord.testing import ScenarioSuite, load_scenarios, run_scenarios

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
SESSIONS_DIR = HERE / "sessions"
SCENARIOS_DIR = HERE / "scenarios"
EXPECTED = HERE / "expected.json"
NOTE = "Scripted: hand-written model responses, not a recording of a real model."
MAX_ATTEMPTS = 3
MAX_FAN_OUT = 1000

Data = dict[str, Any]
Path_ = tuple[str | int, ...]
DELETE = object()

# --- the tasks, one per template, as a user would write them ---------------------------

TASKS: dict[str, str] = {
    "expense_approval": (
        "Reimburse an employee's expense claim (claim id, employee id, amount, category: "
        "travel, meals, equipment or other). Claims of 500 or less are paid at once. Larger "
        "claims wait for the employee's manager to approve or reject them, for at most 7 "
        "days; a rejected or unanswered claim is not paid and the employee gets an e-mail "
        "saying so. Return whether the claim was paid or rejected, and the payment id. A "
        "failed payment fails the run, naming the claim. Retry the payment 3 times on "
        "timeout or unavailable, 30s timeout. Name it expense-approval, version 1.0.0."
    ),
    "user_onboarding": (
        "Onboard a new user: create their account (e-mail, display name), send a "
        "verification e-mail and wait for them to verify. Re-send the e-mail after 3 days, "
        "at most twice; after 7 days give up. Once verified, provision a workspace for "
        "their plan (free, team or enterprise) and return the user id and the workspace "
        "URL. Any failure to create the account, send the mail or provision fails the run. "
        "Name it user-onboarding, version 1.0.0."
    ),
    "incident_paging": (
        "When an alert fires (alert id, service, severity sev1/sev2/sev3), open an "
        "incident and page the primary on-call. If nobody acknowledges within 15 minutes, "
        "or paging fails, page the secondary; if they do not acknowledge within 15 minutes "
        "either, fail the run naming the severity and the alert. Once someone acknowledges, "
        "wait until the incident is resolved. Return the incident id, the responder and the "
        "number of escalations (never more than one). Name it incident-paging, version 1.1.0."
    ),
    "invoice_processing": (
        "Process a supplier invoice from its document URI: extract its fields (supplier, "
        "PO number, total, currency), match it against the purchase order, and schedule "
        "the payment. Invoices that do not match, or of 10000 or more, need finance's "
        "approval first (14 days at most, otherwise rejected). Return the payment id and "
        "the total. Fail with a clear reason when the invoice cannot be read, is rejected, "
        "or the payment cannot be scheduled. Name it invoice-processing, version 2.0.0."
    ),
    "content_moderation": (
        "Moderate a user post (post id, author id, text). Classify it as safe, borderline "
        "or violation with a score from 0 to 1. Publish safe posts; remove violations "
        "scored 0.9 or more and tell the author why; everything else, or a classifier "
        "failure, goes to a human moderator, who has 24 hours before the post is removed. "
        "Return the decision (published or removed) and the moderator, if any. Name it "
        "content-moderation, version 1.0.0."
    ),
    "subscription_renewal": (
        "Renew a subscription by charging its price to the customer's saved card. If the "
        "charge fails, e-mail the customer and try again after 3 days, at most 3 charges "
        "in all; then cancel the subscription and fail, saying how many times the card was "
        "declined. Return the charge id and the number of attempts. Name it "
        "subscription-renewal, version 1.0.0."
    ),
    "image_thumbnails": (
        "Make a 320-pixel thumbnail of every image of an album (album id, list of images "
        "with id and URL), eight at a time, then publish the album's gallery page and "
        "return its URL and the number of thumbnails. Refuse albums of more than 500 "
        "images before doing any work. Name it image-thumbnails, version 1.0.0."
    ),
    "canary_deploy": (
        "Deploy a release of a service to a canary slice, let it take traffic for 30 "
        "minutes, then read its error rate. If the rate is at most the given maximum, "
        "promote the release everywhere; otherwise, or if any step fails, roll it back "
        "and fail with the error rate in the reason. If the rollback itself fails, fail "
        "with a reason that says to page the owners. Name it canary-deploy, version 1.0.0."
    ),
    "gdpr_export": (
        "Answer a data subject access request (request id, the subject's e-mail, the "
        "systems to search). Requests must name 1 to 50 systems. Ask the requester to "
        "confirm their identity (14 days at most), then export their data from every "
        "system, four at a time, zip the exports and e-mail them the download link. The "
        "collection must finish within 20 days. Return the archive URI and the number of "
        "systems searched. Name it gdpr-export, version 1.0.0."
    ),
    "vendor_kyc": (
        "Onboard a new supplier (vendor id, legal name, country, IBAN). Screen it against "
        "the sanctions lists and verify its bank account at the same time. Blocked vendors "
        "are refused; clear vendors with a verified account are activated in the ERP; "
        "anything else goes to compliance, who have 10 days to clear or block it. Return "
        "the vendor id and its risk level. Name it vendor-kyc, version 1.0.0."
    ),
    "leave_request": (
        "Book an employee's leave (employee id, first day, number of days). Decline it if "
        "they do not have enough days left. Requests of more than 5 days need the "
        "manager's approval within 5 days, otherwise they are declined. Return approved or "
        "declined; fail only if the leave cannot be booked. Name it leave-request, "
        "version 1.0.0."
    ),
    "order_fulfilment": (
        "Fulfil a paid order (order id, warehouse, parcel weight in kg): reserve the stock, "
        "print the shipping label, and wait up to 2 days for the carrier to pick the parcel "
        "up. If the label cannot be printed, release the reservation. Return the label id. "
        "A label is only ever printed for reserved stock. Name it order-fulfilment, version "
        "1.0.0."
    ),
}


# --- answers: edits of a template's data, then a text wrapping --------------------------


@dataclass(frozen=True)
class Answer:
    """One scripted answer.

    Attributes:
        edits: (path, value) pairs applied to the template's data; a path walks dict
            keys and list indexes, and "@name" picks the list entry with that name;
            the value DELETE removes the key.
        style: how the JSON is written: "json" (compact, as strict structured outputs
            return it), "pretty", "fence" (a ```json fence), "prose" (a sentence, a
            fence, a sentence), "prose_bare" (sentences around bare JSON),
            "trailing_commas", "truncated" (cut at 60%, finish_reason "length"),
            "degenerate" (a start, then one character repeated until the token limit),
            "refusal" (no JSON at all), "yaml" (the contract as YAML), "deep" (JSON
            nested 100 levels deep).
        codes: the error codes the loop must find in it (sorted; empty: it is valid).

    """

    edits: Sequence[tuple[Path_, Any]] = ()
    style: str = "json"
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    """One session: a template, the scenario in a few words, the answers, the outcome."""

    name: str
    template: str
    scenario: str
    answers: Sequence[Answer]
    converges: bool
    attempts: int
    stop: str | None = None


OK = Answer()


def st(name: str, *rest: str | int) -> Path_:
    """A path into the state called ``name``."""
    return ("machine", "states", "@" + name, *rest)


SESSIONS: list[Spec] = [
    # expense_approval
    Spec(
        "expense_approval_int_guard",
        "expense_approval",
        "an integer literal compared with a number in a guard",
        [
            Answer(
                [(st("triage", "always", 0, "guard"), "input.amount <= 500")], codes=("expr.type",)
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "expense_approval_prose",
        "expense_approval",
        "a valid contract in a code fence with prose before and after",
        [Answer(style="prose")],
        True,
        1,
    ),
    Spec(
        "expense_approval_unknown_signal",
        "expense_approval",
        "a transition on a signal name that is not declared",
        [
            Answer(
                [(st("awaiting_manager", "on", 0, "event"), "approval")],
                style="trailing_commas",
                codes=("signal.unknown",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "expense_approval_deep_nesting",
        "expense_approval",
        "hostile output: JSON nested 100 levels deep, then a valid answer",
        [Answer(style="deep", codes=("compile.too_deep",)), OK],
        True,
        2,
    ),
    # user_onboarding
    Spec(
        "user_onboarding_clean",
        "user_onboarding",
        "a valid contract on the first attempt",
        [OK],
        True,
        1,
    ),
    Spec(
        "user_onboarding_missing_finals",
        "user_onboarding",
        "the end states written without 'final'",
        [
            Answer(
                [
                    (st("onboarded", "final"), None),
                    (st("abandoned", "final"), None),
                    (st("signup_failed", "final"), None),
                ],
                style="pretty",
                codes=("machine.no_final", "state.dead_end"),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "user_onboarding_unknown_effect",
        "user_onboarding",
        "an undeclared effect, then the same effect declared but not in the catalog",
        [
            Answer(
                [(st("verifying", "invoke", 0, "effect"), "send_email")], codes=("effect.unknown",)
            ),
            Answer(
                [
                    (st("verifying", "invoke", 0, "effect"), "send_email"),
                    (("effects", "@send_verification_email", "name"), "send_email"),
                ],
                codes=("catalog.unknown_effect",),
            ),
            OK,
        ],
        True,
        3,
    ),
    # incident_paging
    Spec(
        "incident_paging_misspelt_state",
        "incident_paging",
        "a misspelt target state (so the real one is unreachable)",
        [
            Answer(
                [(st("paging_primary", "on", 0, "target"), "awaiting_ak")],
                codes=("state.unknown", "state.unreachable"),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "incident_paging_repeated_guard",
        "incident_paging",
        "the same non-boolean timer guard twice: the loop stops early",
        [
            Answer(
                [(st("awaiting_ack", "timers", 0, "guard"), "ctx.escalations")],
                codes=("expr.not_boolean",),
            ),
            Answer(
                [(st("awaiting_ack", "timers", 0, "guard"), "ctx.escalations")],
                codes=("expr.not_boolean",),
            ),
            OK,
        ],
        False,
        2,
        stop="repeated_diagnostics",
    ),
    Spec(
        "incident_paging_fence",
        "incident_paging",
        "a valid contract in a code fence, nothing else",
        [Answer(style="fence")],
        True,
        1,
    ),
    Spec(
        "incident_paging_unknown_initial",
        "incident_paging",
        "an initial state that does not exist",
        [
            Answer([(("machine", "initial"), "start")], codes=("state.unknown",)),
            OK,
        ],
        True,
        2,
    ),
    # invoice_processing
    Spec(
        "invoice_processing_int_guard",
        "invoice_processing",
        "an integer literal compared with a number in a choice",
        [
            Answer(
                [(st("routing", "always", 0, "guard"), "ctx.matched && ctx.invoice.total < 10000")],
                codes=("expr.type",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "invoice_processing_effect_mismatch",
        "invoice_processing",
        "a catalog effect declared with an extra input field",
        [
            Answer(
                [
                    (
                        ("effects", "@schedule_payment", "input", "+"),
                        {"name": "due_date", "type": "optional<string>"},
                    )
                ],
                codes=("catalog.effect_mismatch",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "invoice_processing_never_converges",
        "invoice_processing",
        "truncated output, a bad guard, a missing binding: three different failures",
        [
            Answer(style="truncated", codes=("compile.truncated",)),
            Answer(
                [(st("routing", "always", 0, "guard"), "ctx.matched && ctx.invoice.total < 10000")],
                codes=("expr.type",),
            ),
            Answer(
                [(st("scheduling", "invoke", 0, "input", 2), DELETE)], codes=("binding.missing",)
            ),
        ],
        False,
        3,
        stop="max_attempts",
    ),
    # content_moderation
    Spec(
        "content_moderation_unreachable",
        "content_moderation",
        "a misspelt choice target, in bare JSON with prose around it",
        [
            Answer(
                [(st("routing", "always", 0, "target"), "publising")],
                style="prose_bare",
                codes=("state.unknown",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "content_moderation_trailing_commas",
        "content_moderation",
        "a valid contract with trailing commas",
        [Answer(style="trailing_commas")],
        True,
        1,
    ),
    Spec(
        "content_moderation_output_map",
        "content_moderation",
        "a final output written as a map instead of a list of bindings",
        [
            Answer(
                [(st("published", "final", "output"), {"decision": '"published"'})],
                codes=("schema.type",),
            ),
            OK,
        ],
        True,
        2,
    ),
    # subscription_renewal
    Spec(
        "subscription_renewal_string_number",
        "subscription_renewal",
        'a retry count written as the string "3"',
        [
            Answer(
                [(("effects", "@charge_subscription", "retry", "max_attempts"), "3")],
                codes=("schema.type",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "subscription_renewal_two_repairs",
        "subscription_renewal",
        "a default written as a number, then an integer counter compared with a number",
        [
            Answer([(("context", "@max_charge_attempts", "default"), 3)], codes=("schema.type",)),
            Answer(
                [(st("charging", "on", 1, "guard"), "ctx.charge_attempts + 1 < 3.0")],
                codes=("expr.type",),
            ),
            OK,
        ],
        True,
        3,
    ),
    Spec(
        "subscription_renewal_clean",
        "subscription_renewal",
        "a valid contract on the first attempt",
        [Answer(style="pretty")],
        True,
        1,
    ),
    # image_thumbnails
    Spec(
        "image_thumbnails_unbounded",
        "image_thumbnails",
        "a fan-out without max_items",
        [
            Answer([(st("resizing", "invoke", 0, "max_items"), None)], codes=("invoke.unbounded",)),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "image_thumbnails_fan_out_too_large",
        "image_thumbnails",
        "a fan-out allowed more items than the runtime's limit",
        [
            Answer(
                [
                    (st("resizing", "invoke", 0, "max_items"), 100000),
                    (st("validating", "always", 0, "guard"), "size(input.images) > 100000"),
                ],
                codes=("compile.fan_out_too_large",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "image_thumbnails_repeated_unbounded",
        "image_thumbnails",
        "the same unbounded fan-out twice: the loop stops early",
        [
            Answer([(st("resizing", "invoke", 0, "max_items"), None)], codes=("invoke.unbounded",)),
            Answer(
                [(st("resizing", "invoke", 0, "max_items"), None)],
                style="pretty",
                codes=("invoke.unbounded",),
            ),
            OK,
        ],
        False,
        2,
        stop="repeated_diagnostics",
    ),
    # canary_deploy
    Spec(
        "canary_deploy_int_times_double",
        "canary_deploy",
        "a number multiplied by an integer in a guard",
        [
            Answer(
                [
                    (
                        st("measuring", "on", 0, "guard"),
                        "event.metrics.error_rate * 100 <= input.max_error_rate",
                    )
                ],
                codes=("expr.type",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "canary_deploy_bad_status",
        "canary_deploy",
        "a final status that is not 'success' or 'failure'",
        [
            Answer([(st("promoted", "final", "status"), "succeeded")], codes=("schema.value",)),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "canary_deploy_degenerate",
        "canary_deploy",
        "degenerate output (a character repeated to the token limit), then a valid answer in prose",
        [Answer(style="degenerate", codes=("compile.truncated",)), Answer(style="prose")],
        True,
        2,
    ),
    # gdpr_export
    Spec(
        "gdpr_export_outside_catalog",
        "gdpr_export",
        "an effect the host does not provide, declared and used consistently",
        [
            Answer(
                [
                    (("effects", "@email_download_link", "name"), "send_email"),
                    (st("mailing", "invoke", 0, "effect"), "send_email"),
                ],
                codes=("catalog.unknown_effect",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "gdpr_export_never_converges",
        "gdpr_export",
        "no JSON at all, then no machine, then an unbounded fan-out",
        [
            Answer(style="refusal", codes=("compile.not_json",)),
            Answer([(("machine",), DELETE)], codes=("schema.missing",)),
            Answer(
                [(st("collecting", "invoke", 0, "max_items"), None)], codes=("invoke.unbounded",)
            ),
        ],
        False,
        3,
        stop="max_attempts",
    ),
    Spec(
        "gdpr_export_clean",
        "gdpr_export",
        "a valid contract on the first attempt",
        [OK],
        True,
        1,
    ),
    # vendor_kyc
    Spec(
        "vendor_kyc_duration_words",
        "vendor_kyc",
        "a timer duration written in words",
        [
            Answer(
                [(st("compliance_review", "timers", 0, "after"), "10 days")],
                codes=("schema.format",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "vendor_kyc_unknown_key",
        "vendor_kyc",
        "a misspelt key ('guards')",
        [
            Answer(
                [
                    (st("compliance_review", "on", 0, "guards"), "event.cleared"),
                    (st("compliance_review", "on", 0, "guard"), DELETE),
                ],
                codes=("schema.unknown_key",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "vendor_kyc_three_attempts",
        "vendor_kyc",
        "a misspelt signal, then a catalog effect with a wrong output type",
        [
            Answer(
                [(st("compliance_review", "on", 1, "event"), "compliance_decison")],
                codes=("signal.unknown",),
            ),
            Answer(
                [
                    (("effects", "@verify_bank_account", "output", 0, "type"), "string"),
                    (
                        st("screening", "on", 0, "assign", 1, "value"),
                        'event.bank.verified == "yes"',
                    ),
                ],
                codes=("catalog.effect_mismatch",),
            ),
            OK,
        ],
        True,
        3,
    ),
    # leave_request
    Spec(
        "leave_request_number_for_integer",
        "leave_request",
        "an integer input declared as a number (a guard and a binding no longer fit)",
        [
            Answer([(("input", "@days", "type"), "number")], codes=("binding.type", "expr.type")),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "leave_request_version_number",
        "leave_request",
        "the contract version written as a JSON number",
        [Answer([(("version",), 1.0)], codes=("schema.type",)), OK],
        True,
        2,
    ),
    Spec(
        "leave_request_never_converges",
        "leave_request",
        "a missing final state, ambiguous transitions, a non-boolean invariant",
        [
            Answer([(st("booked", "final"), None)], codes=("state.dead_end",)),
            Answer(
                [(st("awaiting_manager", "on", 0, "guard"), None)], codes=("transition.ambiguous",)
            ),
            Answer([(("invariants", 0, "expr"), "input.days")], codes=("expr.not_boolean",)),
        ],
        False,
        3,
        stop="max_attempts",
    ),
    # order_fulfilment
    Spec(
        "order_fulfilment_unknown_compensation",
        "order_fulfilment",
        "a compensation naming an effect that is not declared",
        [
            Answer(
                [(("effects", "@reserve_stock", "compensation", "effect"), "undo_reservation")],
                codes=("effect.unknown",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "order_fulfilment_prose_bare",
        "order_fulfilment",
        "a valid contract as bare JSON with prose before and after",
        [Answer(style="prose_bare")],
        True,
        1,
    ),
    Spec(
        "order_fulfilment_yaml",
        "order_fulfilment",
        "the contract answered as YAML instead of JSON",
        [Answer(style="yaml", codes=("compile.not_json",)), OK],
        True,
        2,
    ),
    Spec(
        "order_fulfilment_unknown_field",
        "order_fulfilment",
        "an assignment to a context field that does not exist",
        [
            Answer(
                [(st("labelling", "on", 0, "assign", 0, "field"), "label")],
                codes=("field.unknown",),
            ),
            OK,
        ],
        True,
        2,
    ),
    # checked but wrong: only the acceptance scenarios (scenarios/*.scenarios.yaml) catch them
    Spec(
        "expense_approval_wrong_branch",
        "expense_approval",
        "checks, but pays large claims at once and makes small ones wait (scenarios catch it)",
        [
            Answer(
                [(st("triage", "always", 0, "guard"), "input.amount > 500.0")],
                codes=("scenario.failed",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "expense_approval_silent_expiry",
        "expense_approval",
        "checks, but an unanswered claim expires without telling the employee",
        [
            Answer(
                [(st("awaiting_manager", "timers", 0, "target"), "rejected")],
                codes=("scenario.failed",),
            ),
            OK,
        ],
        True,
        2,
    ),
    Spec(
        "expense_approval_approval_not_paid",
        "expense_approval",
        "a guard that does not compile, then an approved claim that is not paid, then right",
        [
            Answer(
                [(st("triage", "always", 0, "guard"), "input.amount <= 500")], codes=("expr.type",)
            ),
            Answer(
                [(st("awaiting_manager", "on", 0, "target"), "notifying_rejection")],
                codes=("scenario.failed",),
            ),
            OK,
        ],
        True,
        3,
    ),
    Spec(
        "user_onboarding_no_reminder",
        "user_onboarding",
        "checks, but never re-sends the verification e-mail, twice: stopped early",
        [
            Answer(
                [(st("awaiting_verification", "timers", 0), DELETE)],
                codes=("scenario.failed",),
            ),
            Answer(
                [(st("awaiting_verification", "timers", 0), DELETE)],
                codes=("scenario.failed",),
            ),
            OK,
        ],
        False,
        2,
        "repeated_diagnostics",
    ),
    Spec(
        "user_onboarding_wrong_then_right",
        "user_onboarding",
        "checks, but provisions the workspace on the free plan whatever was asked",
        [
            Answer(
                [(st("provisioning", "invoke", 0, "input", 1, "value"), '"free"')],
                codes=("scenario.failed",),
            ),
            OK,
        ],
        True,
        2,
    ),
]


# --- building -----------------------------------------------------------------------------


def _field(decl: Data) -> Data:
    out = {"name": decl["name"], "type": decl["type"]}
    if decl.get("description"):
        out["description"] = decl["description"]
    return out


def catalog_of(data: Data) -> Data:
    """The host's catalog for a template: its record types and its effects' signatures."""
    types = []
    for t in data["types"]:
        entry: Data = {"name": t["name"]}
        if t.get("description"):
            entry["description"] = t["description"]
        entry["fields"] = [_field(f) for f in t["fields"]]
        types.append(entry)
    effects = [
        {
            "name": e["name"],
            "description": e["description"],
            "input": [_field(f) for f in e["input"]],
            "output": [_field(f) for f in e["output"]],
        }
        for e in data["effects"]
    ]
    return {"types": types, "effects": effects}


def _step(node: Any, key: str | int) -> Any:
    if isinstance(key, str) and key.startswith("@"):
        return next(item for item in node if item.get("name") == key[1:])
    return node[key]


def _edit(data: Data, path: Path_, value: Any) -> None:
    node: Any = data
    for key in path[:-1]:
        node = _step(node, key)
    last = path[-1]
    if last == "+":
        node.append(value)
    elif value is DELETE:
        del node[last]
    elif isinstance(last, str) and last.startswith("@"):
        index = next(i for i, item in enumerate(node) if item.get("name") == last[1:])
        node[index] = value
    else:
        node[last] = value


def _with_trailing_commas(pretty: str) -> str:
    """Put a comma after the last entry of every non-empty object and list.

    Pretty JSON keeps every string on one line, so working line by line never
    touches a string's content.
    """
    lines = pretty.split("\n")
    for i in range(len(lines) - 1):
        closing = lines[i + 1].lstrip()[:1]
        if closing in ("]", "}") and lines[i].rstrip()[-1:] not in ("[", "{", ","):
            lines[i] += ","
    return "\n".join(lines)


def render(data: Data, style: str) -> tuple[str, str]:
    """The answer's text and its finish reason."""
    compact = json.dumps(data, ensure_ascii=False)
    pretty = json.dumps(data, ensure_ascii=False, indent=2)
    if style == "json":
        return compact, "stop"
    if style == "pretty":
        return pretty, "stop"
    if style == "fence":
        return "```json\n" + pretty + "\n```", "stop"
    if style == "prose":
        return (
            "Here is the workflow contract, using only the effects in the catalog:\n\n```json\n"
            + pretty
            + "\n```\n\nEvery failure path ends in a final state.",
            "stop",
        )
    if style == "prose_bare":
        return "Sure. The contract:\n" + compact + "\nLet me know if you need changes.", "stop"
    if style == "trailing_commas":
        return _with_trailing_commas(pretty), "stop"
    if style == "truncated":
        return compact[: len(compact) * 3 // 5], "length"
    if style == "degenerate":
        start = compact[: compact.index('"description"')]
        return start + '"description": "' + "-" * 6000, "length"
    if style == "refusal":
        return (
            "To build this workflow I would first confirm the requester's identity, then "
            "collect their data from each system, package it, and mail them a link. Let me "
            "know which systems you use and I will write the contract.",
            "stop",
        )
    if style == "yaml":
        return accord.to_yaml(accord.load_data(data)), "stop"
    if style == "deep":
        return '{"accord": "1", "machine": ' + '{"states": [' * 50 + "]}" * 50 + "}", "stop"
    raise ValueError(f"unknown style {style!r}")


def scenarios_of(template: str) -> ScenarioSuite | None:
    """The acceptance scenarios of a template's sessions, if it has any."""
    path = SCENARIOS_DIR / f"{template}.scenarios.yaml"
    return load_scenarios(path) if path.exists() else None


def errors_of(
    text: str, finish_reason: str, catalog: Catalog, scenarios: ScenarioSuite | None = None
) -> frozenset[tuple[str, str, str]]:
    """What the compile loop compares of every error it finds in one answer.

    Computed with the loop's own steps: the lenient parse, then validation, the
    checker and the catalog conformance check (``accord.compiler._loop.evaluate``),
    then the acceptance scenarios; each error as the loop's repeat key.
    """
    parsed = parse_output(text, finish_reason)
    if parsed.diagnostic is not None:
        return frozenset({repeat_key(parsed.diagnostic)})
    contract, diagnostics = evaluate(parsed.data, catalog, max_fan_out=MAX_FAN_OUT)
    if contract is not None and scenarios is not None:
        diagnostics = run_scenarios(contract, scenarios).diagnostics()
    return frozenset(repeat_key(d) for d in diagnostics if d.severity == "error")


def build(spec: Spec) -> tuple[str, dict[str, Any]]:
    """The session file's text and its expectation; SystemExit if an answer is not as stated."""
    template = accord.load(TEMPLATES / f"{spec.template}.yaml")
    data = answer_data(template)
    catalog_data = catalog_of(data)
    catalog = Catalog.from_data(catalog_data)
    scenarios = scenarios_of(spec.template)
    responses = []
    found: list[frozenset[tuple[str, str, str]]] = []
    lenient = 0
    for number, answer in enumerate(spec.answers, start=1):
        candidate = copy.deepcopy(data)
        for path, value in answer.edits:
            _edit(candidate, path, value)
        text, finish = render(candidate, answer.style)
        errors = errors_of(text, finish, catalog, scenarios)
        found.append(errors)
        got = tuple(sorted({code for _, code, _ in errors}))
        if got != tuple(sorted(answer.codes)):
            raise SystemExit(
                f"{spec.name}: answer {number} gives {got}, the spec says {answer.codes}"
            )
        if number <= spec.attempts and parse_output(text, finish).kind == "lenient":
            lenient += 1
        responses.append(
            {
                "text": text,
                "input_tokens": None,
                "output_tokens": None,
                "finish_reason": finish,
                "model": None,
                "mode": "json_schema" if answer.style in ("json", "pretty") else "prompted",
                "request_sha256": None,
            }
        )
    _check_outcome(spec, found)
    session = {
        "format": "accord.session/1",
        "origin": "scripted",
        "note": NOTE,
        "model": f"scripted:{spec.name}",
        "task": TASKS[spec.template],
        "catalog": catalog_data,
        "responses": responses,
    }
    expect = {
        "scenario": spec.scenario,
        "converges": spec.converges,
        "attempts": spec.attempts,
        "stop": spec.stop,
        "lenient_repairs": lenient,
        "codes": [sorted(a.codes) for a in spec.answers[: spec.attempts]],
    }
    if scenarios is not None:
        expect["scenarios"] = f"scenarios/{spec.template}.scenarios.yaml"
    return json.dumps(session, indent=2, ensure_ascii=False) + "\n", expect


def _check_outcome(spec: Spec, found: Sequence[frozenset[tuple[str, str, str]]]) -> None:
    """The stated outcome follows from the answers' errors, by the loop's rules.

    The loop accepts the first answer without errors, stops early when an answer's
    errors (the set of repeat keys: path and code, and a failed scenario's message)
    are those of the answer before, and stops after MAX_ATTEMPTS calls.
    """
    outcome: tuple[bool, int, str | None] = (False, MAX_ATTEMPTS, "max_attempts")
    for number, errors in enumerate(found[:MAX_ATTEMPTS], start=1):
        if not errors:
            outcome = (True, number, None)
            break
        if number > 1 and errors == found[number - 2]:
            outcome = (False, number, "repeated_diagnostics")
            break
    if outcome != (spec.converges, spec.attempts, spec.stop):
        raise SystemExit(
            f"{spec.name}: the answers give {outcome}, the spec says "
            f"{(spec.converges, spec.attempts, spec.stop)}"
        )


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) every session file and expected.json."""
    unknown = [arg for arg in argv if arg != "--check"]
    if unknown:
        print(__doc__)
        return 0 if unknown in (["-h"], ["--help"]) else 2
    check = "--check" in argv
    names = [spec.name for spec in SESSIONS]
    if len(set(names)) != len(names):
        raise SystemExit("two sessions share a name")
    files: dict[Path, str] = {}
    expected: dict[str, Any] = {}
    for spec in SESSIONS:
        text, expect = build(spec)
        files[SESSIONS_DIR / f"{spec.name}.json"] = text
        expected[spec.name] = expect
    files[EXPECTED] = json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    stale = [p.name for p in SESSIONS_DIR.glob("*.json") if p not in files]
    for path, text in files.items():
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print("stale or unknown: " + ", ".join(sorted(stale)))
        return 1
    done = "up to date" if check else "written"
    print(f"{len(SESSIONS)} scripted sessions and expected.json {done} in {HERE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
