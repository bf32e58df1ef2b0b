"""PDF export time of the largest shipped DMP template, filled in.

Loads the templates, picks the one with the most questions, fills a plan of it with each
question's example answer and five planned datasets, then times the PDF export (document model
+ WeasyPrint) five times after a warm-up and prints the median, against a target of 5 s — what
a person waits for a download without wondering whether it broke.

    uv run python bench/pdf_export.py [--datasets 5] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from _common import django_in_scratch

TARGET_S = 5.0

if TYPE_CHECKING:  # Django is configured at run time, before the models are imported
    from dmp.models import Plan


def filled_plan(datasets: int) -> Plan:
    from accounts.models import User
    from dmp.answers import answer_save, blocks_change, plan_create, questions_by_key
    from dmp.demo import example_answer
    from dmp.models import Template
    from dmp.selectors import question_count
    from dmp.services import templates_load
    from projects.models import Membership, Project, Role

    templates_load()
    template = max(Template.objects.all(), key=question_count)
    owner = User.objects.create_user(username="bench", first_name="Ada", last_name="Bench")
    project = Project.objects.create(
        title="Bench project", funder="European Commission", grant_id="101000001"
    )
    Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    plan = plan_create(project=project, template=template, title="Benchmark plan", user=owner)
    for number in range(2, datasets + 1):
        blocks_change(plan=plan, action="add", title=f"Dataset {number}")
    from django.core.exceptions import ValidationError

    for key, (question, block) in questions_by_key(template).items():
        for block_id in [b["id"] for b in plan.blocks] if block else [""]:
            try:
                answer_save(
                    plan=plan,
                    user=owner,
                    question_key=key,
                    block_id=block_id,
                    raw=example_answer(question),
                    version=0,
                )
            except ValidationError:
                continue
    print(
        f"pdf export benchmark: {template} ({question_count(template)} questions), "
        f"{datasets} planned datasets"
    )
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    storage = Path(tempfile.mkdtemp(prefix="fairlight-bench-storage-"))
    django_in_scratch(storage)
    try:
        from dmp.exports import plan_export

        plan = filled_plan(args.datasets)
        plan_export(plan=plan, kind="pdf")  # warm-up: fonts and WeasyPrint's caches
        samples = []
        for _ in range(args.runs):
            start = time.perf_counter()
            pdf = plan_export(plan=plan, kind="pdf").content
            samples.append(time.perf_counter() - start)
        median = statistics.median(samples)
        print(
            f"  {len(pdf):,} bytes; median {median:.2f} s, slowest {max(samples):.2f} s over {args.runs} runs"
        )
        print(
            f"  ratio median/target: {median / TARGET_S:6.2f}x of the {TARGET_S:.0f} s budget"
            "   (target <= 1x)"
        )
    finally:
        shutil.rmtree(storage, ignore_errors=True)


if __name__ == "__main__":
    main()
