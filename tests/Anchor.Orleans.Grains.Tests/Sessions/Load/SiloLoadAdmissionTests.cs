using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Sessions;
using Anchor.Orleans.Grains.Sessions.Load;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Tests.Sessions.Load;

/// <summary>The load thresholds: their validation, and what a new session above one is told.</summary>
public sealed class SiloLoadAdmissionTests
{
    private static readonly SiloAddress Silo = SiloAddress.FromParsableString("127.0.0.1:11111@1");

    private static SiloLoad Load(double cpu, double memory) => new(Silo, cpu, memory, 3, true, Over: true);

    [Fact]
    public void Refusal_NamesTheCpuFigureAndKey_WithARetryAfter()
    {
        var refusal = SiloLoads.Refusal(Load(0.9234, 0.5), new SessionsOptions());

        Assert.NotNull(refusal);
        Assert.Equal("cpu", refusal.Resource);
        Assert.Equal(ErrorCodes.ConcurrencyLimit, refusal.Error.Code);
        Assert.Equal(TimeSpan.FromSeconds(10), refusal.Error.RetryAfter);
        Assert.Equal(
            "concurrency_limit: this silo's CPU is at 92.3 % of what it may use, above Anchor:Sessions:MaxCpuPercent (90 %), so it opens no new session; retry after 10 s (new sessions go to the least loaded silo).",
            refusal.Error.Message);
    }

    [Fact]
    public void Refusal_NamesTheMemoryFigureAndKey_WhenOnlyMemoryIsOver()
    {
        var refusal = SiloLoads.Refusal(Load(0.5, 0.81), new SessionsOptions { MaxMemoryPercent = 80 });

        Assert.Equal("memory", refusal!.Resource);
        Assert.Equal(
            "concurrency_limit: this silo's memory is at 81 % of what it may use, above Anchor:Sessions:MaxMemoryPercent (80 %), so it opens no new session; retry after 10 s (new sessions go to the least loaded silo).",
            refusal.Error.Message);
    }

    [Fact]
    public void Threshold100_TurnsTheCheckOff_EvenForASampleAHairOverEverything()
    {
        var off = new SessionsOptions { MaxCpuPercent = 100, MaxMemoryPercent = 100 };

        Assert.Null(SiloLoads.Refusal(Load(1.004, 1.002), off));
        Assert.False(SiloLoads.IsOver(1.004, 1.002, off));
        Assert.True(SiloLoads.IsOver(1.004, 0.2, new SessionsOptions { MaxCpuPercent = 99 }));
    }

    [Fact]
    public void Refusal_IsNone_AtOrUnderTheThresholds()
    {
        Assert.Null(SiloLoads.Refusal(Load(0.9, 0.9), new SessionsOptions()));
        Assert.Null(SiloLoads.Refusal(Load(0.90049, 0.2), new SessionsOptions())); // 90.0 % shown: not above 90.
        Assert.True(SiloLoads.IsOver(0.9006, 0.2, new SessionsOptions()));
        Assert.False(SiloLoads.IsOver(0.9, 0.9, new SessionsOptions()));
    }

    [Theory]
    [InlineData("MaxCpuPercent", "0")]
    [InlineData("MaxCpuPercent", "101")]
    [InlineData("MaxMemoryPercent", "0")]
    [InlineData("MaxMemoryPercent", "101")]
    public void Options_RefuseAThresholdOutside1To100(string key, string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Bind((key, value)));
        Assert.Contains($"Anchor:Sessions:{key}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Default90_AndAccept1And100()
    {
        Assert.Equal((90, 90), (Bind().MaxCpuPercent, Bind().MaxMemoryPercent));
        var bound = Bind(("MaxCpuPercent", "1"), ("MaxMemoryPercent", "100"));
        Assert.Equal((1, 100), (bound.MaxCpuPercent, bound.MaxMemoryPercent));
    }

    private static SessionsOptions Bind(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create($"Anchor:Sessions:{s.Key}", (string?)s.Value)))
            .Build();
        using var provider = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddAnchorGrainOptions().BuildServiceProvider();
        return provider.GetRequiredService<IOptions<SessionsOptions>>().Value;
    }
}
