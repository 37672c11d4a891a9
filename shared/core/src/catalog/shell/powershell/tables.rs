//! The tables of PowerShell commands, methods and operators the checks know.

/// Commands (lowercase, without `.exe`) that parse text as code, or start a program whose
/// command line is parsed again.
pub(super) const REPARSE: &[&str] = &[
    "invoke-expression",
    "iex",
    "powershell",
    "pwsh",
    "powershell_ise",
    "cmd",
    "start-process",
    "saps",
    "start",
    "add-type",
    "bash",
    "sh",
    "wsl",
    "ssh",
    "schtasks",
    "wmic",
    "cscript",
    "wscript",
    "mshta",
    "python",
    "python3",
    "perl",
    "ruby",
    "node",
    "invoke-command",
    "icm",
    "start-job",
    "new-scheduledtaskaction",
    "runas",
    "psexec",
    "psexec64",
    "invoke-wmimethod",
    "iwmi",
    "invoke-cimmethod",
    "forfiles",
    "conhost",
    "start-threadjob",
];
/// Methods that turn text into code, refused anywhere in a script that reads parameters.
/// Matched in the code with blanks removed, and without the `(`: a method group can be
/// invoked later (`[scriptblock]::Create.Invoke(…)`). `::Create` is refused on any type.
pub(super) const REPARSE_METHODS: &[&str] = &[
    // The stop-parsing token: the rest of the line goes out verbatim, quotes included, so a
    // newline in a value would start PowerShell code.
    "--%",
    "::create",
    ".expandstring",
    ".invokescript",
    ".newscriptblock",
    ".getscriptblock",
    "invoke-expression",
    // `[Diagnostics.Process]::Start(…)` starts a program with a command line.
    "::start",
    ".createpipeline",
    ".createnestedpipeline",
    ".addscript",
    // `function:` paths define functions from text (`Set-Item function:f -Value …`).
    "function:",
];
/// Commands that make a name run another command, which the check cannot follow.
pub(super) const ALIASES: &[&str] = &[
    "set-alias",
    "new-alias",
    "sal",
    "nal",
    "import-alias",
    "ipal",
];

/// Assignment operators: what follows is a statement of its own (`$r = iex …`).
pub(super) const ASSIGNMENTS: &[&str] = &["??=", "+=", "-=", "*=", "/=", "%=", "="];
