using Anchor.Orleans.Grains.Recording;
using Microsoft.Extensions.Configuration;

namespace Anchor.Orleans.Grains.Tests.Recording;

public sealed class RecordingOptionsValidatorTests
{
    private static RecordingOptionsValidator Validator(params (string Key, string Value)[] settings) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build());

    [Fact]
    public void Validate_Fails_WhenAClientNamesAnotherRecording()
    {
        var result = Validator(("Anchor:Clients:a:Recording", "trace"), ("Anchor:Clients:b:Recording", "video"), ("Anchor:Clients:c:Recording", "OFF"))
            .Validate(null, new RecordingOptions());

        Assert.Equal(["Anchor:Clients:b:Recording is 'video': it must be one of off, trace."], result.Failures);
    }

    [Fact]
    public void Validate_Succeeds_WhenClientsSetNoRecording()
    {
        var result = Validator(("Anchor:Clients:a:Sessions:MaxPerClient", "2")).Validate(null, new RecordingOptions());

        Assert.True(result.Succeeded);
    }

    [Fact]
    public void Validate_Fails_WhenTheMemoryStoreCannotHoldOneTrace()
    {
        var result = Validator().Validate(null, new RecordingOptions { MaxTraceBytes = 2_048, MaxMemoryBytes = 1_024 });

        Assert.Equal(
            ["Anchor:Recording:MaxMemoryBytes (1024) must be at least Anchor:Recording:MaxTraceBytes (2048): the in-memory store holds at least one whole trace."],
            result.Failures);
    }
}
