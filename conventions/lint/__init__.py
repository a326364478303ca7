"""The house lint: no Enum types in models or migrations, applied migrations unchanged.

Modules, one noun each: ``codes`` (the table of stable codes), ``static`` (one parse
per file; :func:`conventions.lint.static.lint_paths` is what the benchmark times),
``references`` and ``typing_rules`` (what the static pass looks for), ``facts`` and
``project`` (cross-module answers), ``sql`` (CREATE TYPE ... AS ENUM in text),
``metadata`` (``--models``), ``manifest`` (checksums of applied migrations),
``squawk`` (``--squawk``), ``report`` (findings, noqa, output format). The CLI is
``conventions.commands.lint``. Nothing here touches a database.
"""
