"""Hostile and odd input: recipes, state files, prefixes and file names are untrusted.

Each test runs the CLI on a real temporary repository and checks that bad input is refused in one
sentence with exit code 2, and that nothing outside `.git/migrator` and our own refs changed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from gitfixtures import demo_repo, git, snapshot
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from migrator_tui.cli import main
from migrator_tui.git import refnames
from migrator_tui.recipe.load import BUILTIN_DIR

DB_SESSION = (BUILTIN_DIR / "db_session.toml").read_text()

#: `apply` accepting review-level proposals too, in every file (its defaults: safe ones, planned files)
APPLY = ("apply", "--min-confidence", "review", "--all")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_sentence(err: str) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def all_refs(repo: Path) -> dict[str, str]:
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ") for line in out.splitlines())


def recipe_file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "recipe.toml"
    p.write_text(text)
    return p


def with_name(name: str) -> str:
    return re.sub(r'(?m)^name = "db-session"$', lambda _: f"name = {json.dumps(name)}", DB_SESSION, count=1)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = demo_repo(tmp_path / "repo")
    git(r, "branch", "precious")
    git(r, "tag", "v1")
    return r


# --- 1. ref protocol injection ---------------------------------------------------------------


def test_recipe_name_with_newlines_cannot_inject_ref_commands(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refs = all_refs(repo)
    name = "a HEAD\ndelete refs/heads/precious\ndelete refs/tags/v1\nupdate refs/heads/x"
    code, _, err = run(capsys, *APPLY, str(repo), "--recipe", str(recipe_file(tmp_path, with_name(name))))
    assert code == 2
    one_sentence(err)
    assert all_refs(repo) == refs
    assert not (repo / ".git/migrator").exists() or not any((repo / ".git/migrator").iterdir())


@pytest.mark.parametrize("prefix", [
    "p HEAD\ndelete refs/heads/precious\n", "a\0delete refs/heads/precious", "-x", "a..b", "a/.hidden",
    "x.lock", "a b", "a~1", "a:b", "a[b", "refs/heads/x", "@", "a@{1}", "/abs", "a//b", "HEAD",
])
def test_bad_prefix_is_refused_before_anything_is_saved(
    repo: Path, capsys: pytest.CaptureFixture[str], prefix: str
) -> None:
    refs = all_refs(repo)
    code, _, err = run(capsys, *APPLY, str(repo), f"--prefix={prefix}")
    assert code == 2
    one_sentence(err)
    assert "prefix" in err
    assert all_refs(repo) == refs
    assert not (repo / ".git/migrator/db-session/state.json").exists()


def test_prefix_in_state_json_cannot_inject_ref_commands(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, *APPLY, str(repo), "--file", "web_app.py")[0] == 0
    state_path = repo / ".git/migrator/db-session/state.json"
    state = json.loads(state_path.read_text())
    state["prefix"] = "migrate/x HEAD\ndelete refs/heads/precious\ndelete refs/tags/v1\nupdate refs/heads/y"
    state_path.write_text(json.dumps(state))
    refs = all_refs(repo)
    for argv in ([*APPLY, str(repo)], ["branches", str(repo)], ["rollback", str(repo), "web_app.py"],
                 ["integrate", str(repo)]):
        code, _, err = run(capsys, *argv)
        assert code == 2, argv
        one_sentence(err)
    assert all_refs(repo) == refs


def test_ref_format_matches_git_check_ref_format(tmp_path: Path) -> None:
    import subprocess

    names = ["refs/heads/ok", "refs/heads/a.b", "refs/heads/a..b", "refs/heads/.a", "refs/heads/a.lock",
             "refs/heads/a/", "refs/heads//a", "refs/heads/a.", "refs/heads/a@{b", "@", "refs/heads/a b",
             "refs/heads/a\nb", "refs/heads/a\tb", "refs/heads/a\x7fb", "refs/heads/a~", "refs/heads/a^",
             "refs/heads/a:", "refs/heads/a?", "refs/heads/a*", "refs/heads/a[", "refs/heads/a\\b",
             "refs/heads/%41_b", "refs/heads/-a", "refs/heads/a@b", "refs/heads/a,b=c+d"]
    for name in names:
        proc = subprocess.run(["git", "check-ref-format", name], capture_output=True, check=False)
        assert (refnames.ref_format_error(name) is None) == (proc.returncode == 0), name


# --- 2. state path escape --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["<abs>", "../../hooks", "..", ".", "a/b", "", "x" * 65,
                                  "a\nb", "-rf", "ré", "a.b"])
def test_recipe_name_must_be_a_short_identifier(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    hooks = repo / ".git/hooks"
    before = sorted(p.name for p in hooks.iterdir())
    elsewhere = tmp_path / "elsewhere"
    name = str(elsewhere) if name == "<abs>" else name
    code, _, err = run(capsys, *APPLY, str(repo), "--recipe", str(recipe_file(tmp_path, with_name(name))))
    assert code == 2
    one_sentence(err)
    assert "short identifier" in err
    assert sorted(p.name for p in hooks.iterdir()) == before
    assert not (repo / ".git/migrator").exists()
    assert not elsewhere.exists()


def test_recipe_names_that_are_identifiers_work(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = recipe_file(tmp_path, with_name("team_2-db"))
    code, out, err = run(capsys, *APPLY, str(repo), "--recipe", str(recipe))
    assert code == 0, err
    assert "migrate/team_2-db/web_app.py" in out
    assert (repo / ".git/migrator/team_2-db/state.json").is_file()


# --- 12. a vanished or garbage base ----------------------------------------------------------


@pytest.mark.parametrize("base", ["garbage", "a" * 40, "", "../../etc"])
def test_garbage_or_vanished_base_is_one_sentence(
    repo: Path, capsys: pytest.CaptureFixture[str], base: str
) -> None:
    assert run(capsys, *APPLY, str(repo), "--file", "web_app.py")[0] == 0
    state_path = repo / ".git/migrator/db-session/state.json"
    state = json.loads(state_path.read_text())
    state["base"] = base
    state_path.write_text(json.dumps(state))
    before = snapshot(repo)
    refs = all_refs(repo)
    for argv in (["branches", str(repo)], ["branches", str(repo), "--json"], ["integrate", str(repo)],
                 ["rollback", str(repo), "web_app.py"], ["verify", str(repo), "--test-cmd", "true"],
                 ["report", str(repo)]):
        code, _, err = run(capsys, *argv)
        assert code == 2, (argv, err)
        one_sentence(err)
        assert "base commit" in err
    assert all_refs(repo) == refs
    assert snapshot(repo) == before


def test_base_gone_after_amend_and_gc(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "web_app.py").write_text((repo / "web_app.py").read_text() + "\n")
    git(repo, "commit", "-q", "-am", "second")
    assert run(capsys, *APPLY, str(repo), "--file", "web_app.py")[0] == 0
    git(repo, "branch", "-D", "migrate/db-session/web_app.py")
    git(repo, "commit", "-q", "--amend", "-m", "second, amended")
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "-q", "--prune=now")
    code, _, err = run(capsys, "branches", str(repo))
    assert code == 2
    one_sentence(err)
    assert "--rescan" in err
    code, _, err = run(capsys, *APPLY, str(repo), "--rescan")
    assert code == 0, err


# --- 18. an unusable prefix ------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["main", "main/sub", "precious"])
def test_prefix_clashing_with_a_branch_is_refused_up_front(
    repo: Path, capsys: pytest.CaptureFixture[str], prefix: str
) -> None:
    refs = all_refs(repo)
    code, _, err = run(capsys, *APPLY, str(repo), f"--prefix={prefix}")
    assert code == 2
    one_sentence(err)
    assert "cannot also be a folder" in err
    assert all_refs(repo) == refs
    assert not (repo / ".git/migrator/db-session/state.json").exists()


# --- 3. symbolic links -----------------------------------------------------------------------


def test_symlinked_folder_is_neither_scanned_nor_written_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitfixtures import WEB_APP, make_repo

    repo = make_repo(tmp_path / "repo", {"pkg/mod.py": WEB_APP, "web_app.py": WEB_APP})
    elsewhere = tmp_path / "elsewhere" / "pkg"
    elsewhere.mkdir(parents=True)
    (elsewhere / "mod.py").write_text(WEB_APP)
    for f in (repo / "pkg").iterdir():
        f.unlink()
    (repo / "pkg").rmdir()
    (repo / "pkg").symlink_to(elsewhere, target_is_directory=True)

    code, out, err = run(capsys, "scan", str(repo), "--json", "--no-proposals")
    assert code == 0, err
    data = json.loads(out)
    skipped = {s["path"]: s["reason"] for s in data["skipped"]}
    assert "symbolic link" in skipped["pkg/mod.py"]
    files = [f["path"] for ph in data["phases"] for f in ph["files"]]
    assert files == ["web_app.py"]

    code, out, err = run(capsys, *APPLY, str(repo), "--in-place")
    assert (elsewhere / "mod.py").read_text() == WEB_APP
    assert "web_app.py: 2/2 rewritten" in out
    assert not list(elsewhere.iterdir())[1:]


def test_in_place_leaves_a_symlinked_file_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gitfixtures import WEB_APP, make_repo

    repo = make_repo(tmp_path / "repo", {".gitignore": "vendor/\n"})
    (repo / "vendor").mkdir()
    (repo / "vendor" / "target.py").write_text(WEB_APP)
    (repo / "link.py").symlink_to("vendor/target.py")
    git(repo, "add", "link.py")
    git(repo, "commit", "-q", "-m", "link")

    code, _, err = run(capsys, *APPLY, str(repo), "--in-place")
    assert code == 2
    assert "link.py is a symbolic link" in err
    assert (repo / "link.py").is_symlink()
    assert (repo / "vendor" / "target.py").read_text() == WEB_APP


# --- 4. code injection through imports and names ---------------------------------------------

UNIFIED_IMPORT = 'imports = ["from web_app import unified_session_manager"]'


@pytest.mark.parametrize("entry", [
    "from web_app import unified_session_manager; import os; os.system('true')",
    "from web_app import unified_session_manager\nimport os\nos.system('true')",
    "from web_app import unified_session_manager\n__import__('os')",
    "import os as unified_session_manager  # comment",
    "import_this = 1",
    "from os import *",
    "from __future__ import annotations",
    "",
    "import",
])
def test_imports_entry_must_be_exactly_one_import_statement(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: str
) -> None:
    text = DB_SESSION.replace(UNIFIED_IMPORT, f"imports = [{json.dumps(entry)}]")
    assert text != DB_SESSION
    refs = all_refs(repo)
    code, _, err = run(capsys, *APPLY, str(repo), "--recipe", str(recipe_file(tmp_path, text)))
    if entry.startswith("import os as"):  # one import statement and a comment: kept, canonically
        assert code == 0, err
        assert "# comment" not in git(repo, "show", "migrate/db-session/web_app.py:web_app.py")
        return
    assert code == 2
    one_sentence(err)
    assert "imports" in err
    assert all_refs(repo) == refs


def test_multi_line_import_is_kept_in_its_one_line_form(tmp_path: Path) -> None:
    from migrator_tui.recipe import load_recipe

    entry = "from web_app import (\n    unified_session_manager,\n)"
    text = DB_SESSION.replace(UNIFIED_IMPORT, f"imports = [{json.dumps(entry)}]")
    recipe = load_recipe(str(recipe_file(tmp_path, text)))
    assert recipe.strategies["unified"].imports == ("from web_app import unified_session_manager",)


@pytest.mark.parametrize(("key", "value"), [
    ("manager", "None"), ("manager", "True"), ("method", "class"), ("manager", "a.b"), ("method", "x()"),
    ("manager", "lambda"),
])
def test_manager_and_method_must_be_identifiers_not_keywords(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: str
) -> None:
    old = {"manager": 'manager = "unified_session_manager"', "method": 'method = "get_db_session"'}[key]
    text = DB_SESSION.replace(old, f"{key} = {json.dumps(value)}", 1)
    assert text != DB_SESSION
    refs = all_refs(repo)
    code, _, err = run(capsys, *APPLY, str(repo), "--recipe", str(recipe_file(tmp_path, text)))
    assert code == 2
    one_sentence(err)
    assert "not a keyword" in err
    assert all_refs(repo) == refs


@pytest.mark.parametrize(("old", "new"), [
    ('name = "Web application routes"', 'name = "Web\\u001b[2J\\nforged"'),
    ('description = "Hand-closed', 'description = "\\u202eHand-closed'),
    ("[strategies.unified]", '[strategies."uni\\u001b[31mfied"]'),
])
def test_recipe_text_that_is_printed_must_be_printable(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str
) -> None:
    text = DB_SESSION.replace(old, new, 1)
    assert text != DB_SESSION
    code, out, err = run(capsys, "scan", str(repo), "--recipe", str(recipe_file(tmp_path, text)))
    assert code == 2
    one_sentence(err)
    assert "printable" in err
    assert "\x1b" not in out + err and "\u202e" not in out + err


# --- 5. line separators Python does not break at ---------------------------------------------


@pytest.mark.parametrize("char", ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_odd_separator_in_a_comment_and_a_string_commits_the_right_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], char: str
) -> None:
    from gitfixtures import make_repo

    source = (
        "from flask import Flask\nfrom web_app import db_manager\n\n\n"
        "def first_user():\n"
        "    session = db_manager.get_session()\n"
        "    try:\n"
        f"        user = session.query(User).first()  # page{char}break\n"
        f"        label = 'a{char}b'\n"
        "        return user, label\n"
        "    finally:\n"
        "        session.close()\n"
    )
    repo = make_repo(tmp_path / "repo", {"web_app.py": source})
    code, _, err = run(capsys, *APPLY, str(repo))
    assert code == 0, err
    new = git(repo, "show", "migrate/db-session/web_app.py:web_app.py")
    assert "close()" not in new
    assert f"# page{char}break\n" in new and f"'a{char}b'" in new
    compile(new, "web_app.py", "exec")


# --- 6. one bad file never aborts the run ----------------------------------------------------


def _odd_files_repo(tmp_path: Path) -> Path:
    import os

    from gitfixtures import WEB_APP, make_repo

    long_sum = "return session.query(User).count() + " + "+".join(["1"] * 600)
    repo = make_repo(tmp_path / "repo", {
        "web_app.py": WEB_APP,
        "deep.py": WEB_APP.replace("return session.query(User).count()", long_sum),
        "deeper.py": WEB_APP + "\ny = " + "+".join(["1"] * 30000) + "\n",
    })
    os.chdir(repo)
    Path(os.fsdecode(b"bad\xff.py")).write_text(WEB_APP)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "odd files")
    return repo


def test_a_deep_file_or_an_undecodable_name_does_not_abort_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    repo = _odd_files_repo(tmp_path)
    code, out, err = run(capsys, "scan", str(repo), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert {s["path"]: s["reason"] for s in data["skipped"]} == {
        "deeper.py": "nested too deeply to be analysed (a recursion limit was reached)"}

    code, out, err = run(capsys, "scan", str(repo))
    assert code == 0, err
    assert "bad\\xff.py" in out

    code, out, err = run(capsys, *APPLY, str(repo))
    assert code == 2
    assert "Traceback" not in err
    assert err.strip() == ("migrator-tui: deep.py is nested too deeply to be rewritten (a recursion limit "
                           "was reached); migrate it by hand. (2 decisions of this run dropped)")
    made = set(git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/migrate/").split())
    assert made == {"migrate/db-session/web_app.py", "migrate/db-session/bad%FF.py"}
    assert "bad\\xff.py: migrate/db-session/bad%FF.py" in out
    subject = git(repo, "log", "-1", "--format=%s", "migrate/db-session/bad%FF.py")
    assert subject.startswith("Migrate bad\\xff.py: 2 of 2")
    code, _, err = run(capsys, "report", str(repo), "-o", str(tmp_path / "report.md"))
    assert code == 0, err
    assert "`bad\\xff.py`" in (tmp_path / "report.md").read_text()

    code, out, err = run(capsys, *APPLY, str(repo), "--dry-run")
    assert code == 0, err
    assert "--- a/bad\\xff.py" in out
    assert "deep.py::count_users::0 (line 5, count_users): manual: the rewrite could not be built" in out
    code, out, err = run(capsys, *APPLY, str(repo), "--in-place")
    assert code == 0, err
    assert "deep.py: 1/2 rewritten" in out  # the other function is not deep
    assert "web_app.py: 2/2 rewritten" in out and "bad\\xff.py: 2/2 rewritten" in out


# --- 19. file names with newlines and escape codes -------------------------------------------


def test_control_characters_in_file_names_are_escaped_in_every_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitfixtures import WEB_APP, make_repo

    name = "evil\nweb_app.py: migrate/db-session/x 000000000000 9/9\x1b[31m\u202e.py"
    repo = make_repo(tmp_path / "repo", {name: WEB_APP})
    shown = "evil\\nweb_app.py: migrate/db-session/x 000000000000 9/9\\x1b[31m\\u202e.py"
    for argv in (["scan", str(repo)], ["validate", str(repo)], ["validate", str(repo), "--format", "github"],
                 [*APPLY, str(repo), "--dry-run"], [*APPLY, str(repo)], ["branches", str(repo)],
                 ["integrate", str(repo)], ["scan", str(repo), "--format", "concise"], ["report", str(repo)],
                 ["verify", str(repo), "--test-cmd", "true"], ["rollback", str(repo), name]):
        code, out, err = run(capsys, *argv)
        assert code in (0, 1), (argv, err)
        for text in (out, err):
            assert "\x1b" not in text and "\u202e" not in text, argv
            assert "evil\n" not in text, argv
        if argv[0] in ("scan", "validate", "apply", "integrate", "rollback") and "github" not in argv:
            assert shown in out, argv
    out = git(repo, "log", "--format=%B", "--all")
    assert "\x1b" not in out and "\u202e" not in out, out
    assert "Migrate evil\\nweb_app.py" in out


# --- 7. globs --------------------------------------------------------------------------------


@pytest.mark.parametrize(("glob", "path"), [
    ("**/" * 12 + "x.py", "a/" * 40 + "y.py"),
    ("*a" * 14 + "b.py", "a" * 80 + ".py"),
    ("src/" + "**/*a" * 8 + "z", "src/" + "aaaa/" * 20 + "a" * 30),
])
def test_pathological_globs_match_in_linear_time(glob: str, path: str) -> None:
    import subprocess
    import sys

    code = ("import sys, time\nfrom migrator_tui.recipe import compile_glob\nt = time.perf_counter()\n"
            f"hit = compile_glob({glob!r}).match({path!r})\nprint(bool(hit), time.perf_counter() - t)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20,
                          check=True)
    hit, seconds = proc.stdout.split()
    assert hit == "False" and float(seconds) < 1.0


@given(glob=st.lists(st.sampled_from(["a", "b", ".", "*", "?", "/", "**/", "**", "[ab]", "[!a]", "[a-b]"]),
                     min_size=1, max_size=8).map("".join),
       path=st.lists(st.sampled_from(["a", "b", ".", "/", "\n"]), max_size=10).map("".join))
@settings(max_examples=400, deadline=None)
def test_the_automaton_agrees_with_the_regular_expression(glob: str, path: str) -> None:
    from migrator_tui.recipe import globs

    try:
        tokens = globs._tokens(glob)
    except ValueError:
        return
    assume("//" not in glob and not glob.startswith("/"))
    assert globs._simulate(tokens, path) == bool(globs._regex(tokens).match(path))


@pytest.mark.parametrize("glob", ["[z-a].py", "[].py", "a[b", "x/[/]y", "[!].py"])
def test_bad_globs_are_refused_in_one_sentence(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], glob: str
) -> None:
    text = DB_SESSION.replace('paths = ["web_app.py"]', f"paths = [{json.dumps(glob)}]", 1)
    assert text != DB_SESSION
    code, _, err = run(capsys, "scan", str(repo), "--recipe", str(recipe_file(tmp_path, text)))
    assert code == 2
    one_sentence(err)
    assert "bad glob" in err
    code, _, err = run(capsys, *APPLY, str(repo), "--dry-run", "--file", glob)
    assert code == 2
    one_sentence(err)
    assert "bad glob" in err


def test_a_file_named_with_a_bracket_can_be_selected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitfixtures import WEB_APP, make_repo

    repo = make_repo(tmp_path / "repo", {"brack[.py": WEB_APP, "brack.py": WEB_APP})
    code, out, err = run(capsys, *APPLY, str(repo), "--dry-run", "--file", "brack[.py")
    assert code == 0, err
    assert "--- a/brack[.py" in out and "a/brack.py" not in out
    code, out, err = run(capsys, *APPLY, str(repo), "--dry-run", "--file", "brack[[].py")
    assert code == 0, err
    assert "--- a/brack[.py" in out and "a/brack.py" not in out


# --- 8. line-ending settings -----------------------------------------------------------------


@pytest.mark.parametrize("setting", ["attributes", "autocrlf"])
def test_clean_files_under_crlf_settings_are_not_uncommitted_edits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str
) -> None:
    from gitfixtures import SERVICE, WEB_APP, make_repo

    files: dict[str, str | bytes] = {"web_app.py": WEB_APP, "svc.py": SERVICE}
    if setting == "attributes":
        files[".gitattributes"] = "*.py text eol=crlf\n"
    repo = make_repo(tmp_path / "repo", files)
    if setting == "autocrlf":
        git(repo, "config", "core.autocrlf", "true")
    for name in ("web_app.py", "svc.py"):
        (repo / name).unlink()
    git(repo, "checkout", "--", ".")
    assert b"\r\n" in (repo / "web_app.py").read_bytes()
    assert git(repo, "status", "--porcelain") == ""
    before = snapshot(repo)

    code, out, err = run(capsys, *APPLY, str(repo))
    assert code == 0, err
    assert "web_app.py: migrate/db-session/web_app.py" in out
    committed = git(repo, "cat-file", "-p", "migrate/db-session/web_app.py:web_app.py")
    assert "with " in committed and "\r" not in committed  # the blob keeps git's normalised form
    assert snapshot(repo) == before

    # a real edit is still seen as one: reviewed as the base holds it, and said so
    (repo / "svc.py").write_bytes((repo / "svc.py").read_bytes() + b"# edited\r\n")
    code, out, err = run(capsys, *APPLY, str(repo), "--rescan")
    assert code == 0, err
    assert "svc.py has uncommitted edits" in out


# --- 10. re-running apply with nothing changed -----------------------------------------------


@pytest.mark.parametrize("many", [False, True])
def test_apply_again_with_nothing_changed_leaves_every_branch_where_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], many: bool
) -> None:
    from gitfixtures import WEB_APP, make_repo

    count = 9 if many else 2  # 9 files take the fast-import batch path
    repo = make_repo(tmp_path / "repo", {f"m{i}.py": WEB_APP for i in range(count)})
    assert run(capsys, *APPLY, str(repo))[0] == 0
    first = all_refs(repo)
    assert run(capsys, "verify", str(repo), "--test-cmd", "true")[0] == 0
    code, out, err = run(capsys, *APPLY, str(repo))
    assert code == 0, err
    assert all_refs(repo) == first
    assert out.count("(unchanged)") == count
    code, out, _ = run(capsys, "branches", str(repo), "--json")
    assert {f["verified"] for f in json.loads(out)["files"]} == {"passed"}


# --- 14. disk full / read-only ---------------------------------------------------------------


def _limited(limit: int):  # type: ignore[no-untyped-def]
    import resource
    import signal

    def setup() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return setup


@pytest.mark.parametrize("command", [["apply", "--min-confidence", "review"],
                                     ["apply", "--min-confidence", "review", "--in-place"]])
def test_a_full_disk_is_one_sentence_and_loses_nothing(repo: Path, command: list[str]) -> None:
    import subprocess
    import sys

    before = snapshot(repo)
    refs = all_refs(repo)
    proc = subprocess.run([sys.executable, "-m", "migrator_tui", *command, str(repo)], capture_output=True,
                          text=True, preexec_fn=_limited(200), check=False)
    assert proc.returncode == 2, proc.stderr
    one_sentence(proc.stderr)
    assert "the file is too large" in proc.stderr
    assert all_refs(repo) == refs
    assert snapshot(repo) == before
    state = repo / ".git/migrator/db-session/state.json"
    assert not state.exists() or json.loads(state.read_text())
    git(repo, "fsck", "--no-progress")


@pytest.mark.parametrize("command", [["apply", "--min-confidence", "review"],
                                     ["apply", "--min-confidence", "review", "--in-place"],
                                     ["verify", "--test-cmd", "true"]])
def test_a_read_only_repository_is_one_sentence_and_loses_nothing(repo: Path, command: list[str]) -> None:
    import os
    import shutil
    import stat
    import subprocess
    import sys

    prefix: list[str] = []
    if os.geteuid() == 0:  # root writes anyway: drop the capabilities that let it
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to drop root's file capabilities")
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"]
    before = snapshot(repo)
    refs = all_refs(repo)
    modes = {}
    for dirpath, dirnames, filenames in os.walk(repo):
        for name in [".", *dirnames, *filenames]:
            path = os.path.join(dirpath, name)
            modes[path] = os.lstat(path).st_mode
            os.chmod(path, modes[path] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        proc = subprocess.run([*prefix, sys.executable, "-m", "migrator_tui", *command, str(repo)],
                              capture_output=True, text=True, check=False)
    finally:
        for path, mode in modes.items():
            os.chmod(path, stat.S_IMODE(mode))
    assert proc.returncode == 2, proc.stderr
    one_sentence(proc.stderr)
    assert "permission was denied" in proc.stderr
    assert all_refs(repo) == refs
    assert snapshot(repo) == before
    assert not (repo / ".git/migrator").exists()


# --- 21. a closed pipe, an unwritable demo folder ---------------------------------------------


@pytest.mark.parametrize("argv", [["scan"], ["scan", "--json"], ["apply", "--dry-run"], ["branches"],
                                  ["validate"]])
def test_a_closed_pipe_ends_quietly(repo: Path, argv: list[str]) -> None:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "migrator_tui", *argv, str(repo)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head` that has read enough before the command writes
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""


def test_demo_into_an_unwritable_folder_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder\n")
    code, _, err = run(capsys, "demo", str(blocker / "demo"), "--no-tui")
    assert code == 2
    one_sentence(err)
    assert blocker.read_text() == "not a folder\n"


# --- 22. a kill during --in-place ------------------------------------------------------------


def test_a_temporary_file_left_by_a_killed_in_place_write_is_removed_next_run(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    killed = subprocess.Popen([sys.executable, "-c", (
        "import os, time\nfrom pathlib import Path\nfrom migrator_tui.review import state\n"
        "os.replace = lambda *a: time.sleep(120)  # stop between writing the copy and renaming it\n"
        f"state.atomic_write(Path({str(repo / 'web_app.py')!r}), b'half of a rewrite')\n")])
    deadline = time.monotonic() + 30
    while not (left := list(repo.glob(".web_app.py.*.tmp"))) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert len(left) == 1
    live = repo / f".web_app.py.{os.getpid()}.abcdefgh.tmp"  # a write still in progress
    live.write_text("in progress")

    code, out, err = run(capsys, *APPLY, str(repo), "--in-place")
    assert code == 0, err
    assert not left[0].exists()
    assert f"removed {left[0].name}, left by an interrupted run" in err
    assert live.exists()
    assert "web_app.py: 2/2 rewritten" in out


# --- 13. CR-only files -----------------------------------------------------------------------


def test_a_cr_only_file_is_scanned_validated_and_rewritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitfixtures import WEB_APP, make_repo

    repo = make_repo(tmp_path / "repo", {"web_app.py": WEB_APP.replace("\n", "\r").encode()})
    code, out, err = run(capsys, "scan", str(repo), "--json")
    assert code == 0, err
    occs = [o for ph in json.loads(out)["phases"] for f in ph["files"] for o in f["occurrences"]]
    assert [(o["line"], o["function"]) for o in occs] == [(5, "count_users"), (13, "add_user")]
    code, out, _ = run(capsys, "validate", str(repo))
    assert code == 1 and "web_app.py:5: count_users" in out
    code, out, err = run(capsys, *APPLY, str(repo))
    assert code == 0, err
    new = git(repo, "cat-file", "-p", "migrate/db-session/web_app.py:web_app.py")
    assert "close()" not in new


# --- 16. stale decisions with an old branch --------------------------------------------------


def test_stale_decisions_and_the_old_branch_are_reported(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, *APPLY, str(repo), "--file", "web_app.py")[0] == 0
    tip = all_refs(repo)["refs/heads/migrate/db-session/web_app.py"]
    web = repo / "web_app.py"
    web.write_text(web.read_text().replace("session.query(User).count()", "session.query(User).count() + 0")
                   .replace("session.add(User(name=name))", "session.add(User(name=name.strip()))"))
    git(repo, "commit", "-q", "-am", "edit both functions")
    code, out, err = run(capsys, *APPLY, str(repo), "--rescan", "--file", "web_app.py")
    assert code == 0, err
    assert (f"web_app.py: nothing accepted (0/2), 2 stale decisions (code changed); its branch "
            f"migrate/db-session/web_app.py is still at {tip[:12]} from an earlier commit") in out
    assert "no branch" not in out


# --- 17. submodules --------------------------------------------------------------------------


def test_a_submodule_is_listed_as_skipped_with_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitfixtures import WEB_APP, make_repo

    inner = make_repo(tmp_path / "inner", {"web_app.py": WEB_APP})
    repo = make_repo(tmp_path / "repo", {"main.py": WEB_APP})
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "vendor/inner")
    git(repo, "commit", "-q", "-m", "submodule")
    code, out, err = run(capsys, "scan", str(repo), "--json", "--no-proposals")
    assert code == 0, err
    skipped = {s["path"]: s["reason"] for s in json.loads(out)["skipped"]}
    assert skipped == {"vendor/inner": "a git submodule: its files belong to another repository "
                                       "(scan it on its own)"}
    code, out, _ = run(capsys, "validate", str(repo))
    assert "skipped vendor/inner: a git submodule" in out


# --- 20. a repository owned by another user ---------------------------------------------------


@pytest.mark.parametrize("how", ["chown", "env"])
def test_dubious_ownership_is_named(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    import os

    if how == "env":  # git's own switch for its tests: every repository counts as another user's
        monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    elif not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root to give the repository to another user")
    else:
        for dirpath, dirnames, filenames in os.walk(repo):
            for name in [*dirnames, *filenames]:
                os.lchown(os.path.join(dirpath, name), 12345, 12345)
        os.lchown(repo, 12345, 12345)
    for argv in (["branches", str(repo)], [*APPLY, str(repo)], ["scan", str(repo)], ["validate", str(repo)],
                 [*APPLY, str(repo), "--dry-run"], [*APPLY, str(repo), "--in-place"]):
        code, _, err = run(capsys, *argv)
        assert code == 2, argv
        one_sentence(err)
        assert "owned by another user" in err and "safe.directory" in err, argv


# --- 9. verify on SIGTERM / SIGHUP / SIGKILL --------------------------------------------------


def _dead(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1].startswith("Z")  # a zombie has finished
    except (FileNotFoundError, ProcessLookupError):
        return True


def _verify_in_background(repo: Path, pids: Path):  # type: ignore[no-untyped-def]
    import subprocess
    import sys
    import time

    assert run_quiet(*APPLY, str(repo)) == 0
    cmd = f"echo $$ >> {pids}; exec sleep 120"
    proc = subprocess.Popen([sys.executable, "-m", "migrator_tui", "verify", str(repo), "--test-cmd", cmd],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if pids.exists() and len(pids.read_text().split()) == 2:
            break
        time.sleep(0.1)
    assert len(pids.read_text().split()) == 2
    return proc


def run_quiet(*argv: str) -> int:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(list(argv))


def _worktrees(repo: Path) -> list[str]:
    out = git(repo, "worktree", "list", "--porcelain")
    return [ln for ln in out.splitlines() if ln.startswith("worktree ")]


def _our_temp_folders(pid: int) -> list[Path]:
    import tempfile

    return list(Path(tempfile.gettempdir()).glob(f"migrator-verify-{pid}-*"))


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_verify_cleans_up_on_sigterm_and_sighup(repo: Path, tmp_path: Path, sig: str) -> None:
    import signal

    pids = tmp_path / "pids"
    proc = _verify_in_background(repo, pids)
    assert len(_worktrees(repo)) == 3
    proc.send_signal(getattr(signal, sig))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + getattr(signal, sig)
    assert b"Traceback" not in err and b"terminated" in err
    assert len(_worktrees(repo)) == 1
    assert _our_temp_folders(proc.pid) == []
    assert all(_dead(int(p)) for p in pids.read_text().split())
    assert not (repo / ".git/migrator/db-session/lock").exists() or run_quiet(*APPLY, str(repo)) == 0


@pytest.mark.parametrize("reaped", [True, False])
def test_verify_after_a_sigkilled_run_removes_what_it_left(repo: Path, tmp_path: Path, reaped: bool) -> None:
    import os
    import signal
    import time

    pids = tmp_path / "pids"
    proc = _verify_in_background(repo, pids)
    proc.kill()
    if reaped:
        proc.wait()
    else:  # a zombie: its parent (here, this test) has not reaped it, as a container's init may never do
        deadline = time.monotonic() + 30
        while not _dead(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _dead(proc.pid) and os.path.exists(f"/proc/{proc.pid}")
    try:
        assert len(_worktrees(repo)) == 3
        assert len(_our_temp_folders(proc.pid)) == 2
        assert not any(_dead(int(p)) for p in pids.read_text().split())  # orphans, still running
        assert run_quiet("verify", str(repo), "--test-cmd", "true") == 0
        assert len(_worktrees(repo)) == 1
        assert _our_temp_folders(proc.pid) == []
        time.sleep(0.2)
        assert all(_dead(int(p)) for p in pids.read_text().split())  # the orphans were stopped
    finally:
        for p in pids.read_text().split():
            with __import__("contextlib").suppress(ProcessLookupError):
                os.kill(int(p), signal.SIGKILL)
        proc.wait()


# --- 11. --in-place and --dry-run are linear in the occurrences of a file ---------------------


@pytest.mark.parametrize("mode", ["--in-place", "--dry-run"])
def test_in_place_and_dry_run_build_each_file_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    from gitfixtures import WEB_APP, make_repo

    from migrator_tui.rewrite import build as build_module

    body = WEB_APP.split("from flask import Flask\n\n", 1)[1]
    copies = [body.replace("def count_users", f"def count_users{i}")
              .replace("def add_user", f"def add_user{i}") for i in range(15)]
    repo = make_repo(tmp_path / "repo", {"web_app.py": "from database import db_manager\n"
                                                       "from flask import Flask\n\n\n"
                                                       + "\n\n".join(copies)})
    calls: list[int] = []
    real = build_module.build

    def counting(parsed, jobs, *args):  # type: ignore[no-untyped-def]
        calls.append(len(jobs))
        return real(parsed, jobs, *args)

    monkeypatch.setattr(build_module, "build", counting)
    code, out, err = run(capsys, *APPLY, str(repo), mode)
    assert code == 0, err
    assert calls == [30]  # one build of the whole file with all 30 rewrites, not one per rewrite
    if mode == "--dry-run":
        assert out.count("--- a/web_app.py") == 31  # one diff per occurrence, one for the import
        assert out.count("+from flask import Flask, current_app") == 1
    else:
        assert "web_app.py: 30/30 rewritten" in out


# --- 15. a kill between the branch update and the state save ---------------------------------


def test_branches_left_without_a_record_by_a_kill_are_reconciled(repo: Path) -> None:
    import signal
    import subprocess
    import sys

    code = ("import os, signal\n"
            "from migrator_tui.cli import main\n"
            "from migrator_tui.review.workspace import Workspace\n"
            "def die(self, *a):\n"
            "    os.kill(os.getpid(), signal.SIGKILL)  # the refs moved, the state is not saved yet\n"
            "Workspace._record_commit = die\n"
            f"main(['apply', '--min-confidence', 'review', {str(repo)!r}])\n")
    killed = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert killed.returncode == -signal.SIGKILL
    refs = all_refs(repo)
    tips = {k: v for k, v in refs.items() if k.startswith("refs/heads/migrate/")}
    assert len(tips) == 2
    state_path = repo / ".git/migrator/db-session/state.json"
    assert all(f.get("commit") is None for f in json.loads(state_path.read_text())["files"])

    assert run_quiet("verify", str(repo), "--test-cmd", "true") == 0
    files = {f["path"]: f for f in json.loads(state_path.read_text())["files"]}
    assert {files[p]["commit"]["sha"] for p in ("web_app.py", "admin/services/user_service.py")} == set(
        tips.values())
    assert all(files[p]["verification"]["status"] == "passed" for p in files if files[p].get("commit"))
    assert all_refs(repo) == refs
