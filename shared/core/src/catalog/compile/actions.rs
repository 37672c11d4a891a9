//! The runbook's action: SSM Run Command, SSM Automation or a Rundeck job, each checked against
//! what the service accepts, with templates that may read only declared parameters.

use super::*;

/// Parse an action template; it may read only declared parameters.
fn action_template(
    text: &str,
    at: &Location,
    declared: &HashSet<&str>,
    problems: &mut Problems<'_>,
) -> Option<Template> {
    match Template::parse(text) {
        Ok(template) => {
            for name in template.placeholders() {
                match name.strip_prefix(PARAMS_PREFIX) {
                    Some(param) if declared.contains(param) => {}
                    Some(param) => problems.add(at, format!("{{{{ {name} }}}}: no parameter {param:?} is declared")),
                    None => problems.add(
                        at,
                        format!(
                            "{{{{ {name} }}}}: actions read only declared parameters ({{{{ params.NAME }}}}), so every value passes a pattern"
                        ),
                    ),
                }
            }
            Some(template)
        }
        Err(error) => {
            problems.add(at, error.to_string());
            None
        }
    }
}

fn compile_parameters(
    raw: BTreeMap<String, Spanned<OneOrMany>>,
    declared: &HashSet<&str>,
    problems: &mut Problems<'_>,
) -> BTreeMap<String, Vec<Template>> {
    raw.into_iter()
        .map(|(name, values)| {
            let at = values.referenced;
            let templates = values
                .value
                .into_vec()
                .iter()
                .filter_map(|value| action_template(value, &at, declared, problems))
                .collect();
            (name, templates)
        })
        .collect()
}

fn check_document(document: &Spanned<String>, problems: &mut Problems<'_>) {
    if !DOCUMENT_PATTERN.is_match(&document.value) {
        problems.add(
            &document.referenced,
            format!("{:?} is not a valid SSM document name", document.value),
        );
    }
}

fn check_rate_controls(
    max_concurrency: &Option<Spanned<String>>,
    max_errors: &Option<Spanned<String>>,
    problems: &mut Problems<'_>,
) {
    if let Some(value) = max_concurrency
        && !MAX_CONCURRENCY_PATTERN.is_match(&value.value)
    {
        problems.add(
            &value.referenced,
            format!(
                "max_concurrency {:?} must be a count (1 or more) or a percentage (1% to 100%)",
                value.value
            ),
        );
    }
    if let Some(value) = max_errors
        && !MAX_ERRORS_PATTERN.is_match(&value.value)
    {
        problems.add(
            &value.referenced,
            format!(
                "max_errors {:?} must be a count or a percentage (0% to 100%)",
                value.value
            ),
        );
    }
}

pub(super) fn compile_ssm_command(
    raw: RawSsmCommand,
    action_at: &Location,
    declared: &HashSet<&str>,
    problems: &mut Problems<'_>,
) -> Option<SsmCommand> {
    check_document(&raw.document, problems);
    let targets = compile_targets(raw.targets, declared, problems);
    if let Some(timeout) = &raw.delivery_timeout_seconds
        && !DELIVERY_TIMEOUT_RANGE.contains(&timeout.value)
    {
        problems.add(
            &timeout.referenced,
            format!(
                "delivery_timeout_seconds must be between {} and {}",
                DELIVERY_TIMEOUT_RANGE.start(),
                DELIVERY_TIMEOUT_RANGE.end()
            ),
        );
    }
    if let Some(timeout) = &raw.execution_timeout_seconds
        && !EXECUTION_TIMEOUT_RANGE.contains(&timeout.value)
    {
        problems.add(
            &timeout.referenced,
            format!(
                "execution_timeout_seconds must be between {} and {}",
                EXECUTION_TIMEOUT_RANGE.start(),
                EXECUTION_TIMEOUT_RANGE.end()
            ),
        );
    }
    check_rate_controls(&raw.max_concurrency, &raw.max_errors, problems);
    if raw.execution_timeout_seconds.is_some() && raw.parameters.contains_key("executionTimeout") {
        problems.add(
            action_at,
            "set execution_timeout_seconds or parameters.executionTimeout, not both",
        );
    }
    // Values rendered into a shell command are quoted for that shell: AWS's two shell documents
    // are known, and their shell cannot be changed (`shell: none` or the other shell's quoting
    // would leave values open); any other document says which shell its `commands` run in.
    let known_shell = known_document_shell(&raw.document.value);
    if let (Some(known), Some(given)) = (known_shell, &raw.shell)
        && given.value != known
    {
        problems.add(
            &given.referenced,
            format!(
                "{} runs its commands in {}: shell: {} would quote values for another shell",
                raw.document.value,
                shell_name(known),
                shell_name(given.value)
            ),
        );
    }
    let shell = known_shell
        .or(raw.shell.as_ref().map(|given| given.value))
        .unwrap_or(Quoting::None);
    let commands_at = raw
        .parameters
        .get("commands")
        .map(|commands| commands.referenced);
    let parameters = compile_parameters(raw.parameters, declared, problems);
    if let (Some(commands), Some(commands_at)) = (parameters.get("commands"), commands_at) {
        let templated = commands.iter().any(|template| !template.is_literal());
        if templated && raw.shell.is_none() && known_shell.is_none() {
            // Fail closed: a document we do not know may run `commands` in a shell.
            problems.add(
                &raw.document.referenced,
                "`commands` reads parameters: say which shell runs them (shell: posix | powershell | none)",
            );
        }
        let misplaced = match shell {
            Quoting::Posix => shell::check_posix(commands),
            Quoting::Powershell => shell::check_powershell(commands),
            Quoting::None => None,
        };
        if let Some(problem) = misplaced {
            problems.add(&commands_at, problem);
        }
    }
    Some(SsmCommand {
        document: raw.document.value,
        shell,
        targets: targets?,
        parameters,
        delivery_timeout_seconds: raw.delivery_timeout_seconds.map(|value| value.value),
        execution_timeout_seconds: raw.execution_timeout_seconds.map(|value| value.value),
        max_concurrency: raw.max_concurrency.map(|value| value.value),
        max_errors: raw.max_errors.map(|value| value.value),
    })
}

/// The shell AWS's own command documents run `commands` in, by name or by ARN. Documents whose
/// names start with `AWS-` belong to AWS, so an ARN ending in one of these names is that document.
fn known_document_shell(document: &str) -> Option<Quoting> {
    let name = match document.rsplit_once(":document/") {
        Some((_, name)) => name,
        None => document,
    };
    match name {
        "AWS-RunShellScript" => Some(Quoting::Posix),
        "AWS-RunPowerShellScript" => Some(Quoting::Powershell),
        _ => None,
    }
}

fn shell_name(quoting: Quoting) -> &'static str {
    match quoting {
        Quoting::Posix => "posix",
        Quoting::Powershell => "powershell",
        Quoting::None => "none",
    }
}

pub(super) fn compile_ssm_automation(
    raw: RawSsmAutomation,
    action_at: &Location,
    declared: &HashSet<&str>,
    problems: &mut Problems<'_>,
) -> Option<SsmAutomation> {
    check_document(&raw.document, problems);
    check_rate_controls(&raw.max_concurrency, &raw.max_errors, problems);
    if raw.targets.is_some() != raw.target_parameter.is_some() {
        problems.add(
            action_at,
            "ssm_automation: targets and target_parameter go together",
        );
    }
    let targets = match raw.targets {
        Some(targets) => Some(compile_targets(targets, declared, problems)?),
        None => None,
    };
    let parameters = compile_parameters(raw.parameters, declared, problems);
    Some(SsmAutomation {
        document: raw.document.value,
        document_version: raw.document_version,
        parameters,
        target_parameter: raw.target_parameter,
        targets,
        max_concurrency: raw.max_concurrency.map(|value| value.value),
        max_errors: raw.max_errors.map(|value| value.value),
    })
}

pub(super) fn compile_rundeck(
    raw: RawRundeck,
    declared: &HashSet<&str>,
    problems: &mut Problems<'_>,
) -> Option<RundeckJob> {
    if !RUNDECK_JOB_ID_PATTERN.is_match(&raw.job_id.value) {
        problems.add(
            &raw.job_id.referenced,
            format!("{:?} is not a Rundeck job id (a UUID)", raw.job_id.value),
        );
    }
    let options = raw
        .options
        .into_iter()
        .filter_map(|(name, value)| {
            if name == RUNDECK_RUN_ID_OPTION {
                // The run id travels in this option so that a takeover can find the execution;
                // a runbook that set it would hide its run.
                problems.add(
                    &value.referenced,
                    format!("option {name:?} is set by remediate itself (the run id)"),
                );
            } else if !RUNDECK_OPTION_NAME_PATTERN.is_match(&name) {
                problems.add(
                    &value.referenced,
                    format!("{name:?} is not a Rundeck option name (letters, digits, _ . -)"),
                );
            }
            action_template(&value.value, &value.referenced, declared, problems)
                .map(|template| (name, template))
        })
        .collect();
    let loglevel = raw.loglevel.and_then(|given| {
        let level = LogLevel::ALL
            .into_iter()
            .find(|level| level.as_str() == given.value);
        if level.is_none() {
            let known: Vec<&str> = LogLevel::ALL.iter().map(|level| level.as_str()).collect();
            problems.add(
                &given.referenced,
                format!(
                    "loglevel {:?} is not one of {}",
                    given.value,
                    known.join(", ")
                ),
            );
        }
        level
    });
    let filter = raw.filter.and_then(|given| {
        if given.value.trim().is_empty() {
            // An empty filter would not mean "the job's own nodes" to every Rundeck version.
            problems.add(
                &given.referenced,
                "filter is empty: leave it out to use the job's own",
            );
            return None;
        }
        action_template(&given.value, &given.referenced, declared, problems)
    });
    let as_user = raw.as_user.and_then(|given| {
        let user = given.value;
        if user.is_empty()
            || user.chars().count() > MAX_RUNDECK_USER_CHARS
            || user.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            problems.add(
                &given.referenced,
                format!(
                    "as_user {user:?} is not a Rundeck user name (1 to {MAX_RUNDECK_USER_CHARS} characters, no spaces)"
                ),
            );
            return None;
        }
        if user.contains("{{") {
            problems.add(
                &given.referenced,
                "as_user is a fixed user name, not a template: who a job runs as is not up to an incident",
            );
            return None;
        }
        Some(user)
    });
    Some(RundeckJob {
        job_id: raw.job_id.value,
        options,
        loglevel,
        filter,
        as_user,
    })
}

fn compile_targets(
    raw: Spanned<RawTargets>,
    declared: &HashSet<&str>,
    problems: &mut Problems<'_>,
) -> Option<TargetSpec> {
    let at = raw.referenced;
    let raw = raw.value;
    match (raw.instance_ids.is_empty(), raw.tags.is_empty()) {
        (false, true) => {
            if raw.instance_ids.len() > MAX_INSTANCE_IDS {
                problems.add(
                    &at,
                    format!("at most {MAX_INSTANCE_IDS} instance_ids per command"),
                );
            }
            let mut ids = Vec::new();
            for id in &raw.instance_ids {
                let template = action_template(id, &at, declared, problems)?;
                if template.is_literal() && !INSTANCE_ID_PATTERN.is_match(id) {
                    problems.add(&at, format!("{id:?} is not an EC2 or managed instance id"));
                }
                ids.push(template);
            }
            Some(TargetSpec::InstanceIds(ids))
        }
        (true, false) => {
            if raw.tags.len() > MAX_TAG_TARGETS {
                problems.add(
                    &at,
                    format!("at most {MAX_TAG_TARGETS} tag conditions per command"),
                );
            }
            let mut tags = BTreeMap::new();
            for (key, values) in raw.tags {
                let values = values.into_vec();
                if !is_tag_key(&key) {
                    problems.add(&at, format!("{key:?} is not a valid tag key"));
                }
                if values.is_empty()
                    || values
                        .iter()
                        .any(|value| value.is_empty() || value.len() > 256)
                {
                    problems.add(
                        &at,
                        format!("tag {key:?} needs one or more values of 1 to 256 characters"),
                    );
                }
                let templates = values
                    .iter()
                    .filter_map(|value| action_template(value, &at, declared, problems))
                    .collect();
                tags.insert(key, templates);
            }
            Some(TargetSpec::Tags(tags))
        }
        _ => {
            problems.add(&at, "targets needs exactly one of instance_ids or tags");
            None
        }
    }
}
