using System.Net;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Tests.Hosting;

public sealed class LoggingTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Logs_CarryRequestAndClientScope_AndNeverTheKey()
    {
        const string wrongKey = "wrong-key-that-must-not-be-logged-7731";
        await using var host = await AnchorAppHost.StartAsync(TestKeys.Settings());

        using var forbidden = await host.CreateClient(TestKeys.Agent).GetAsync("/status", Ct);
        using var unauthorized = await host.CreateClient(wrongKey).GetAsync("/status", Ct);
        using var ok = await host.CreateClient(TestKeys.Operator).GetAsync("/status", Ct);

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var requestId = forbidden.Headers.GetValues("X-Request-Id").Single();
        var denial = Assert.Single(host.Logs.Entries, e => e.Category == "Microsoft.AspNetCore.Authorization.DefaultAuthorizationService" && Equals(e.Scope("request_id"), requestId));
        Assert.Equal(TestKeys.AgentClient, denial.Scope("client_id"));

        var everything = host.Logs.AllText;
        foreach (var secret in new[] { TestKeys.Agent, TestKeys.Operator, TestKeys.OtherAgent, wrongKey })
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Development", "simple")]
    [InlineData("Staging", "json")]
    public void Console_UsesJsonOutsideDevelopment(string environment, string formatter)
    {
        var settings = TestKeys.Settings();
        settings["Anchor:Clustering:Provider"] = "Redis";
        settings["Anchor:Storage:Provider"] = "Redis";
        settings["Anchor:Redis:ConnectionString"] = "127.0.0.1:1";
        var app = AnchorAppHost.Build(settings, environment, new LogCapture(), null, out _);

        var options = app.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;

        Assert.Equal(formatter, options.FormatterName);
    }
}
