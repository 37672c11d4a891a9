//! `max_targets` for tag targets: resolved when the run starts, and sent to exactly those ids.

use crate::catalog::Targets;
use crate::plan::CommandRequest;
use crate::ports::executor::{CommandExecutor, RESOLVE_MAX_PAGES};
use crate::{Error, Result};

/// What a runbook's `max_targets` makes of a command's targets before it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pinned {
    /// Nothing to resolve (instance ids, or no limit): send the request as it is.
    AsIs,
    /// Tag targets resolved within the limit: send to exactly these instances, so that nothing
    /// that joins the tag between the count and the send is reached.
    Instances(CommandRequest),
    /// Too many instances, or none: refuse, with the reason.
    Refused(String),
}

/// Hold tag targets to `max_targets`: resolve them to the managed instances that carry the
/// tags now and either pin the command to exactly those ids or refuse. Instance-id targets were
/// counted by the decision already; without a limit, tags go to SSM as tags.
pub async fn pin_tag_targets(
    executor: &dyn CommandExecutor,
    request: &CommandRequest,
    max_targets: Option<u32>,
) -> Result<Pinned> {
    Ok(match pin(executor, &request.targets, max_targets).await? {
        None => Pinned::AsIs,
        Some(Ok(instance_ids)) => {
            let mut pinned = request.clone();
            pinned.targets = Targets::InstanceIds(instance_ids);
            Pinned::Instances(pinned)
        }
        Some(Err(reason)) => Pinned::Refused(reason),
    })
}

/// The same for any targets (an automation's too): `None` when there is nothing to resolve,
/// else the instance ids to pin to, or the reason to refuse.
pub async fn pin(
    executor: &dyn CommandExecutor,
    targets: &Targets,
    max_targets: Option<u32>,
) -> Result<Option<std::result::Result<Vec<String>, String>>> {
    let (Some(max), Targets::Tags(tags)) = (max_targets, targets) else {
        return Ok(None);
    };
    let resolved = executor.resolve_tags(tags).await?;
    let described = targets.describe();
    let count = resolved.instance_ids.len();
    if count == 0 {
        return Ok(Some(Err(format!(
            "no online managed instance carries {described}: nothing to run on"
        ))));
    }
    if resolved.truncated && count <= max as usize {
        // Sparse pages ran out before the count settled: neither "too many" nor a count to pin
        // to is known. A retry may read it whole.
        return Err(Error::Aws {
            service: "ssm",
            operation: "DescribeInstanceInformation",
            message: format!(
                "could not count the instances carrying {described} within {RESOLVE_MAX_PAGES} pages"
            ),
            transient: true,
        });
    }
    if resolved.truncated || count > max as usize {
        let at_least = if resolved.truncated { "at least " } else { "" };
        return Ok(Some(Err(format!(
            "{at_least}{count} instances carry {described}, more than the runbook's limit of {max} (max_targets)"
        ))));
    }
    Ok(Some(Ok(resolved.instance_ids)))
}
