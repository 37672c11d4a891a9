//! PowerShell regression tests for the second review of the shell checks.

use super::shell_checks::{assert_accepted, refusal_of};

fn refused(scripts: &[&str]) {
    for script in scripts {
        refusal_of(false, script);
    }
}

#[test]
fn a_command_after_an_assignment_or_return_is_a_command() {
    refused(&[
        "$r = iex {{ params.x }}",
        "$r=iex {{ params.x }}",
        "$out = cmd /c echo {{ params.x }}",
        "$ok = powershell -NoProfile -Command {{ params.x }}",
        "$r = & cmd.exe /c echo {{ params.x }}",
        "[string]$r = iex {{ params.x }}",
        "return iex {{ params.x }}",
        "throw iex {{ params.x }}",
        "exit iex {{ params.x }}",
        "$a += iex {{ params.x }}",
        "$a -= cmd /c {{ params.x }}",
        "$a ??= iex {{ params.x }}",
        "$v = {{ params.x }}\n'a' | iex",
        "$v = {{ params.x }}\n$v | iex",
    ]);
    assert_accepted(
        false,
        &[
            "$v = {{ params.x }}\nWrite-Output $v",
            "$v={{ params.x }}; Write-Output $v",
            "return {{ params.x }}",
            "$r = Get-Service {{ params.x }}",
            "$n = 1; $n += 2; Write-Output {{ params.x }}",
        ],
    );
}

#[test]
fn ampersand_joined_to_a_name_is_the_call_operator() {
    refused(&["&iex {{ params.x }}", "&cmd /c echo {{ params.x }}"]);
}

#[test]
fn a_hash_inside_a_word_does_not_start_a_comment() {
    refused(&[
        "$v = {{ params.x }}\nWrite-Output status#ok; iex $v",
        "$v = {{ params.x }}\nWrite-Output $v#x; iex $v",
        "Write-Output 1#{{ params.x }}",
    ]);
    assert_accepted(false, &["Write-Output {{ params.x }} # a note"]);
}

#[test]
fn braced_variable_names_are_read_to_their_brace() {
    refused(&["$v = {{ params.x }}\n${'b} = 1\niex $v\n${'d} = 2"]);
    assert_accepted(
        false,
        &["Write-Output ${env:ProgramFiles(x86)} {{ params.x }}"],
    );
}

#[test]
fn splatting_is_an_expansion() {
    refused(&[
        "$a = {{ params.x }}\niex @a",
        "$a = @({{ params.x }})\niex @a",
    ]);
}

#[test]
fn a_placeholder_joined_to_a_command_name_is_refused() {
    refused(&["Get-Serv{{ params.x }}", "& Get-Serv{{ params.x }}"]);
    refusal_of(true, "system{{ params.x }}");
    assert_accepted(false, &["Get-Item C:\\logs\\{{ params.x }}"]);
}

#[test]
fn more_commands_and_methods_that_run_code_are_known() {
    refused(&[
        "Invoke-WmiMethod -Class Win32_Process -Name Create -ArgumentList {{ params.x }}",
        "Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{CommandLine={{ params.x }}}",
        "forfiles /p C:\\Windows /m win.ini /c {{ params.x }}",
        "conhost {{ params.x }}",
        "Start-Process {{ params.x }}",
        "New-Item -Path function: -Name f -Value {{ params.x }}\nf",
        "Set-Item -Path function:f -Value {{ params.x }}; f",
        "Set-Item -Path 'function:f' -Value {{ params.x }}; f",
        "$v = {{ params.x }}\n[Diagnostics.Process]::Start('cmd.exe', '/c ' + $v)",
        "$v = {{ params.x }}\n$host.Runspace.CreateNestedPipeline($v, $false).Invoke()",
        "$v = {{ params.x }}\n$host.Runspace.CreatePipeline($v).Invoke()",
        "$v = {{ params.x }}\n$ps.AddScript($v).Invoke()",
        "$v = {{ params.x }}\nStart-ThreadJob { iex $using:v } | Receive-Job -Wait",
    ]);
}
