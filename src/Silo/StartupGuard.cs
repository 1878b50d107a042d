using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Silo;

/// <summary>
/// Runs the host and turns start-up failures into what an operator can act on: one line per problem on
/// standard error and a non-zero exit code, instead of a stack trace.
/// </summary>
public static class StartupGuard
{
    /// <summary>EX_CONFIG from sysexits.h: the configuration is wrong.</summary>
    public const int ConfigurationError = 78;

    /// <summary>Anything else that stopped start-up (a port in use, Redis unreachable).</summary>
    public const int StartupFailure = 1;

    public static async Task<int> RunAsync(Func<WebApplication> build, TextWriter? error = null)
    {
        error ??= Console.Error;
        try
        {
            var app = build();
            await app.RunAsync();
            return 0;
        }
        catch (Exception ex) when (ConfigurationFailures(ex) is { Count: > 0 } failures)
        {
            foreach (var failure in failures)
            {
                await error.WriteLineAsync($"configuration error: {failure}");
            }

            return ConfigurationError;
        }
        catch (Exception ex)
        {
            // Only the type and message: messages of our own code never carry secrets; inner details go to logs.
            await error.WriteLineAsync($"start-up failed: {ex.GetType().Name}: {ex.Message}");
            return StartupFailure;
        }
    }

    /// <summary>Every validation failure in <paramref name="exception"/>, however the host wrapped them.</summary>
    public static IReadOnlyList<string> ConfigurationFailures(Exception exception) => exception switch
    {
        OptionsValidationException options => options.Failures.ToList(),
        AggregateException aggregate => aggregate.InnerExceptions.SelectMany(ConfigurationFailures).ToList(),
        _ when exception.InnerException is { } inner => ConfigurationFailures(inner),
        _ => [],
    };
}
