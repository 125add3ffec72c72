#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""gendoc.py - everything generated from doc/xdplb.8.md (its header comment
describes the markup).

  gendoc.py usage SRC OUT        C header: static const char usage_text[]
  gendoc.py man SRC OUT          the man page, roff
  gendoc.py readme SRC FILE      README's reference, between its markers
  gendoc.py completion SRC FILE  the completion's tables, between markers
  gendoc.py commands SRC         the command names, one a line

readme and completion rewrite FILE in place; with --check they change
nothing and exit 1 (saying so) when FILE is not what they would write.
Standard library only; the output depends on SRC alone (the man page's date
is SOURCE_DATE_EPOCH's, else SRC's last commit's, else SRC's mtime).
"""
import argparse
import datetime
import os
import re
import subprocess
import sys
import textwrap

README_BEGIN = "<!-- BEGIN generated from doc/xdplb.8.md by `make docs`: do not edit -->"
README_END = "<!-- END generated -->"
COMP_BEGIN = "# BEGIN generated from doc/xdplb.8.md by `make docs`: do not edit"
COMP_END = "# END generated"


# ---------------------------------------------------------------- parsing

class Doc:
    """title: (name, section, source); blocks: [(kind, payload)] in order, kind
    one of sh (section), ss (subsection), para (text), item (bullet text),
    dl (term, text), pre (fence kind, lines). section/subsection of each pre
    block are kept in pres: [(section, subsection, kind, lines)]."""

    def __init__(self, path):
        self.path = path
        self.title = ("XDPLB", "8", "xdplb")
        self.blocks = []
        self.pres = []
        self._parse(open(path, encoding="utf-8").read())

    def _parse(self, text):
        text = re.sub(r"<!--.*?-->\n?", "", text, flags=re.S)
        lines = text.split("\n")
        i, sec, sub, para = 0, "", "", []

        def flush():
            if para:
                self.blocks.append(("para", " ".join(para)))
                para.clear()

        while i < len(lines):
            ln = lines[i]
            m = re.match(r"^```\s*([\w-]*)\s*$", ln)
            if m:
                flush()
                body = []
                i += 1
                while i < len(lines) and not lines[i].startswith("```"):
                    body.append(lines[i])
                    i += 1
                if i == len(lines):
                    sys.exit("%s: a fenced block is not closed" % self.path)
                self.blocks.append(("pre", (m.group(1), body)))
                self.pres.append((sec, sub, m.group(1), body))
            elif ln.startswith("% "):
                f = ln[2:].split()
                self.title = (f[0], f[1], " ".join(f[2:]))
            elif ln.startswith("## "):
                flush()
                sub = ln[3:].strip()
                self.blocks.append(("ss", sub))
            elif ln.startswith("# "):
                flush()
                sec, sub = ln[2:].strip(), ""
                self.blocks.append(("sh", sec))
            elif not ln.strip():
                flush()
            elif ln.startswith("- "):
                flush()
                item = [ln[2:]]
                while i + 1 < len(lines) and lines[i + 1].startswith("  ") and lines[i + 1].strip():
                    i += 1
                    item.append(lines[i].strip())
                self.blocks.append(("item", " ".join(item)))
            elif i + 1 < len(lines) and lines[i + 1].startswith(":   ") and not para:
                term, body = ln.strip(), []
                i += 1
                while i < len(lines) and (lines[i].startswith(":   ") or
                                          (lines[i].startswith("    ") and lines[i].strip())):
                    body.append(lines[i][4:].strip())
                    i += 1
                self.blocks.append(("dl", (term, " ".join(body))))
                continue
            else:
                para.append(ln.strip())
            i += 1
        flush()

    def help_text(self):
        out = []
        for _, _, kind, body in self.pres:
            if kind in ("help", "help-only"):
                out.extend(body)
        return "\n".join(out) + "\n"

    def commands(self):
        """[(name, [usage lines])] of the COMMANDS section, in order."""
        cmds = []
        for sec, sub, kind, body in self.pres:
            if sec == "COMMANDS" and sub and kind == "help":
                if cmds and cmds[-1][0] == sub:
                    continue
                usage = usage_part(body)
                if not usage or usage[0].split()[0] != sub:
                    sys.exit("%s: the help block of '## %s' must start with '%s'"
                             % (self.path, sub, sub))
                cmds.append((sub, usage))
        return cmds

    def metavars(self):
        """{NAME: definition text} from every `NAME := ...` in help blocks."""
        defs, cur = {}, None
        for _, _, kind, body in self.pres:
            if kind not in ("help", "help-only"):
                continue
            for ln in body:
                m = re.match(r"^([A-Z][A-Z0-9_]*)\s*:=\s*(.*)$", ln)
                if m:
                    cur = m.group(1)
                    defs[cur] = [m.group(2)]
                elif cur and ln.startswith(" "):
                    defs[cur].append(ln.strip())
                else:
                    cur = None
        return defs

    def global_options(self):
        """[(option, METAVAR or '')] of the OPTIONS section's help lines."""
        opts = []
        for sec, _, kind, body in self.pres:
            if sec != "OPTIONS" or kind != "help":
                continue
            for ln in body:
                m = re.match(r"^\s+(?:(-\w), )?(--[\w-]+)(?: ([A-Z]+))?", ln)
                if m:
                    if m.group(1):
                        opts.append((m.group(1), m.group(3) or ""))
                    opts.append((m.group(2), m.group(3) or ""))
        return opts


def usage_part(body):
    """The usage lines of a command's help block, summaries cut off."""
    lines = [ln for ln in body if ln.strip()]
    if not lines:
        return []
    out = [re.split(r"\s{2,}", lines[0].strip())[0]]
    for ln in lines[1:]:
        s = ln.strip()
        if not s.startswith(("[", "-")):
            break
        out.append(re.split(r"\s{2,}", s)[0])
    return out


WORD_ARG = re.compile(r"^(?:[A-Z][A-Z0-9_]*|[\w:.-]+(?:\|[\w:.-]+)+)$")


def grammar(tokens_text):
    """Options {--x: arg} and positional METAVARs of grammar text. An
    option's argument is the word after it in the same brackets: in
    `[--x] [FILE]` FILE is not --x's."""
    toks = tokens_text.replace("...", " ").replace("[", " [ ").replace("]", " ] ").split()
    opts, pos, i = {}, [], 0
    while i < len(toks):
        t = toks[i]
        if t in ("[", "]"):
            i += 1
            continue
        if t.startswith("--"):
            arg = ""
            if i + 1 < len(toks) and WORD_ARG.match(toks[i + 1]) and \
                    not toks[i + 1].endswith("OPTS"):
                arg = toks[i + 1]
                i += 1
            opts.setdefault(t, arg)
        elif re.match(r"^[A-Z][A-Z0-9_]*$", t):
            pos.append(t)
        i += 1
    return opts, pos


def command_table(doc):
    """[(name, {--opt: arg}, [positional METAVARs])]; metavariables named in
    the grammar that define options (SVCOPTS) lend theirs."""
    defs = doc.metavars()
    table = []
    for name, usage in doc.commands():
        opts, pos = grammar(" ".join(usage)[len(name):])
        real_pos = []
        for p in pos:
            if p in defs and re.search(r"\[--", defs[p][0]):
                # The bracketed options of the definition's grammar lines.
                gram = " ".join(x for x in defs[p] if x.startswith("[") or x is defs[p][0])
                o, _ = grammar(" ".join(re.findall(r"\[[^\]]*\]", gram)))
                for k, v in o.items():
                    opts.setdefault(k, v)
            else:
                real_pos.append(p)
        table.append((name, opts, real_pos))
    return table


def choices(defs):
    """{METAVAR: words} for definitions of the form `a | b:X | c`."""
    out = {}
    for name, d in defs.items():
        alts = [a.strip() for a in d[0].split(" | ")]
        if len(alts) > 1:
            out[name] = " ".join(re.split(r"[A-Z\[]", a)[0] for a in alts)
    return out


# ---------------------------------------------------------------- outputs

def c_string(text):
    out = []
    for ln in text.splitlines(True):
        s = ln.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append('"%s"' % s)
    return "\n".join(out)


def gen_usage(doc):
    return ("/* Generated from %s by scripts/gendoc.py: do not edit. */\n"
            "static const char usage_text[] =\n%s;\n"
            % (doc.path, c_string(doc.help_text())))


def roff_escape(s):
    s = s.replace("\\", "\\e").replace("-", "\\-")
    return s


def roff_line(s):
    return "\\&" + s if s.startswith((".", "'")) else s


def roff_inline(s):
    out, pos = [], 0
    for m in re.finditer(r"`([^`]+)`|\*([^*]+)\*", s):
        out.append(roff_escape(s[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB%s\\fR" % roff_escape(m.group(1)))
        else:
            out.append("\\fI%s\\fR" % roff_escape(m.group(2)))
        pos = m.end()
    out.append(roff_escape(s[pos:]))
    return "".join(out)


def man_date(path):
    if os.environ.get("SOURCE_DATE_EPOCH"):
        t = int(os.environ["SOURCE_DATE_EPOCH"])
    else:
        try:
            t = int(subprocess.run(["git", "log", "-1", "--format=%ct", "--", path],
                                   capture_output=True, text=True, check=True,
                                   cwd=os.path.dirname(os.path.abspath(path))).stdout)
        except (OSError, ValueError, subprocess.CalledProcessError):
            t = int(os.stat(path).st_mtime)
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d")


def roff_text(s):
    """Filled text: roff source lines of at most 72 columns, none starting
    with a control character."""
    return [roff_line(x) for x in textwrap.wrap(roff_inline(s), 72,
                                                  break_long_words=False,
                                                  break_on_hyphens=False)]


def gen_man(doc):
    name, sec, source = doc.title
    out = ['.\\" Generated from %s by scripts/gendoc.py: do not edit.' % doc.path,
           '.TH %s %s %s "%s" "System Administration"' % (name, sec, man_date(doc.path), source)]

    def para(macro):
        # A paragraph macro right after a heading is redundant (mandoc warns).
        if not out[-1].startswith((".SH", ".SS")):
            out.append(macro)

    for kind, p in doc.blocks:
        if kind == "sh":
            out.append(".SH %s" % p)
        elif kind == "ss":
            out.append(".SS %s" % roff_inline(p))
        elif kind == "para":
            para(".PP")
            out += roff_text(p)
        elif kind == "item":
            out.append(".IP \\(bu 2")
            out += roff_text(p)
        elif kind == "dl":
            out += [".TP", roff_line(roff_inline(p[0]))] + roff_text(p[1])
        elif kind == "pre":
            fence, body = p
            if fence == "help-only":
                continue
            body = [re.sub(r"^Usage: ", "", x) for x in body]
            while body and not body[0].strip():
                body.pop(0)
            while body and not body[-1].strip():
                body.pop()
            ind = min((len(x) - len(x.lstrip()) for x in body if x.strip()), default=0)
            para(".PP")
            out += [".RS 4", ".nf"]
            out += [roff_line(roff_escape(x[ind:])) if x.strip() else "\\&" for x in body]
            out += [".fi", ".RE"]
    # No blank lines: roff takes them for paragraph breaks, and warns.
    return "\n".join(out) + "\n"


def gen_readme_block(doc):
    return "```\n%s```" % doc.help_text()


def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def gen_completion_block(doc):
    defs = doc.metavars()
    table = command_table(doc)
    out = ["_xdplb_commands=%s" % sh_quote(" ".join(n for n, _, _ in table)),
           "# Options of each command (and of xdplb itself), positional",
           "# METAVARs, options' arguments (a METAVAR or choices a|b; by",
           "# [COMMAND:]OPTION) and the words of METAVARs defined as choices.",
           "declare -gA _xdplb_opts=() _xdplb_pos=() _xdplb_arg=() _xdplb_words=()"]
    gopts = doc.global_options()
    out.append("_xdplb_opts[xdplb]=%s" % sh_quote(" ".join(o for o, _ in gopts)))
    # An option's argument is keyed by the option alone where every command
    # gives it the same one, else by command:option.
    args = {}
    for o, a in gopts:
        args.setdefault(o, {})["xdplb"] = a
    for name, opts, pos in table:
        out.append("_xdplb_opts[%s]=%s" % (name, sh_quote(" ".join(opts))))
        if pos:
            out.append("_xdplb_pos[%s]=%s" % (name, sh_quote(" ".join(pos))))
        for o, a in opts.items():
            args.setdefault(o, {})[name] = a
    for o, by_cmd in args.items():
        if len(set(by_cmd.values())) == 1:
            a = next(iter(by_cmd.values()))
            if a:
                out.append("_xdplb_arg[%s]=%s" % (o, sh_quote(a)))
        else:
            for name, a in by_cmd.items():
                out.append("_xdplb_arg[%s:%s]=%s" % (name, o, sh_quote(a)))
    for name, words in sorted(choices(defs).items()):
        out.append("_xdplb_words[%s]=%s" % (name, sh_quote(words)))
    return "\n".join(out)


def replace_between(path, begin, end, block, check):
    text = open(path, encoding="utf-8").read()
    b, e = text.find(begin), text.find(end)
    if b < 0 or e < b:
        sys.exit("%s: markers not found: %s ... %s" % (path, begin, end))
    new = text[:b + len(begin)] + "\n" + block + "\n" + text[e:]
    if new == text:
        return 0
    if check:
        print("%s is stale: run `make docs` (the source is doc/xdplb.8.md)" % path,
              file=sys.stderr)
        return 1
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(path + ".tmp", path)
    print("  UPDATED   %s" % path)
    return 0


def write(path, text):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["usage", "man", "readme", "completion", "commands"])
    ap.add_argument("src")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    doc = Doc(a.src)
    if a.what == "commands":
        print("\n".join(n for n, _ in doc.commands()))
        return 0
    if not a.out:
        ap.error("%s needs an output file" % a.what)
    if a.what == "usage":
        write(a.out, gen_usage(doc))
    elif a.what == "man":
        write(a.out, gen_man(doc))
    elif a.what == "readme":
        return replace_between(a.out, README_BEGIN, README_END, gen_readme_block(doc), a.check)
    elif a.what == "completion":
        return replace_between(a.out, COMP_BEGIN, COMP_END, gen_completion_block(doc), a.check)
    return 0


if __name__ == "__main__":
    sys.exit(main())
