using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Recording;

/// <summary>
/// Checks every client's <c>Recording</c> names a mode (per-client options are named options, which start-up validation
/// never sees), and that the in-memory store holds at least one whole trace.
/// </summary>
public sealed class RecordingOptionsValidator(IConfiguration configuration) : IValidateOptions<RecordingOptions>
{
    public ValidateOptionsResult Validate(string? name, RecordingOptions options)
    {
        var failures = new List<string>();
        foreach (var client in configuration.GetSection($"{OptionsRegistration.Root}:{ClientPolicyOptions.SectionName}").GetChildren())
        {
            var value = client[nameof(ClientPolicyOptions.Recording)];
            if (SessionRecordings.Parse(value) is null)
            {
                failures.Add($"{client.Path}:{nameof(ClientPolicyOptions.Recording)} is '{value}': it must be one of {string.Join(", ", SessionRecordings.Values)}.");
            }
        }

        if (options.MaxMemoryBytes < options.MaxTraceBytes)
        {
            failures.Add($"{OptionsRegistration.Root}:{RecordingOptions.SectionName}:MaxMemoryBytes ({options.MaxMemoryBytes}) must be at least {OptionsRegistration.Root}:{RecordingOptions.SectionName}:MaxTraceBytes ({options.MaxTraceBytes}): the in-memory store holds at least one whole trace.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
