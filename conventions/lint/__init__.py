"""The house lint: no Enum types in models or migrations, applied migrations unchanged.

Modules, one noun each: ``codes`` (the table of stable codes), ``static`` (one parse
per file; :func:`conventions.lint.static.lint_paths` is what the benchmark times),
``references`` and ``typing_rules`` (what the static pass looks for), ``facts`` and
``project`` (cross-module answers), ``sql`` (CREATE TYPE ... AS ENUM in text),
``metadata`` (``--models``), ``manifest`` (checksums of applied migrations),
``squawk`` (``--squawk``), ``report`` (findings, noqa, output format), ``config``
(``[tool.conventions.lint]``: paths, select/ignore, per-file ignores), ``baseline``
(legacy findings accepted once), ``locate`` (metadata holders found by type, never
evaluating a proxy). The migration directories come from ``conventions.project.layout``.
The CLI is ``conventions.commands.lint`` (arguments) and
``conventions.commands.lint_checks`` (the four checks). Nothing here touches a
database.
"""
