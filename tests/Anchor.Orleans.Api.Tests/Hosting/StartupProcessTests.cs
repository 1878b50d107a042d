using System.Diagnostics;
using Anchor.Orleans.Silo;

namespace Anchor.Orleans.Api.Tests.Hosting;

/// <summary>The real executable, as an operator starts it: a bad configuration exits non-zero with one line per problem.</summary>
public sealed class StartupProcessTests
{
    [Fact]
    public async Task Silo_ExitsWithConfigurationError_InProductionWithoutRedis()
    {
        var dll = typeof(SiloApplication).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        await stdout;

        Assert.Equal(StartupGuard.ConfigurationError, process.ExitCode);
        Assert.Equal(
            [
                "configuration error: Anchor:Auth:ApiKeys is empty: Production needs at least one API key.",
                "configuration error: Anchor:Clustering:Provider must be Redis in Production (got 'Localhost'): localhost clustering is for one development process.",
                "configuration error: Anchor:DataProtection:KeyCertificatePath is required in Production: the Data Protection key ring that seals saved profiles is kept in Redis and must be encrypted with a certificate that is not. Mount a certificate with its RSA private key from a secret (PKCS#12, or PEM with Anchor:DataProtection:KeyCertificateKeyPath) and set this key to its path; docs/runbooks/key-ring-rotation.md shows how.",
                "configuration error: Anchor:Storage:Provider must be Redis in Production (got 'Memory'): in-memory state loses budgets and the emergency switch on restart.",
            ],
            (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }
}
