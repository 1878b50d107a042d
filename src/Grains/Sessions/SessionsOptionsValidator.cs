using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>Rules that span session fields.</summary>
public sealed class SessionsOptionsValidator : IValidateOptions<SessionsOptions>
{
    public ValidateOptionsResult Validate(string? name, SessionsOptions options)
    {
        var failures = new List<string>();
        if (options.MaxPerClient > options.MaxConcurrent)
        {
            failures.Add($"Anchor:Sessions:MaxPerClient ({options.MaxPerClient}) must not exceed Anchor:Sessions:MaxConcurrent ({options.MaxConcurrent}).");
        }

        if (options.ActionTimeoutSeconds > options.MaxDurationSeconds)
        {
            failures.Add($"Anchor:Sessions:ActionTimeoutSeconds ({options.ActionTimeoutSeconds}) must not exceed Anchor:Sessions:MaxDurationSeconds ({options.MaxDurationSeconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
