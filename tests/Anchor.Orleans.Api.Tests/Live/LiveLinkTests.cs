using Anchor.Orleans.Api.Live;
using Anchor.Orleans.Api.Logging;
using Anchor.Orleans.Grains.Live;
using Microsoft.Extensions.Configuration;

namespace Anchor.Orleans.Api.Tests.Live;

/// <summary>The pure parts: tokens, their redaction, and input scaling.</summary>
public sealed class LiveLinkTests
{
    [Fact]
    public void Secret_Is256RandomBits_InBase64Url()
    {
        var a = LiveLinks.NewSecret();

        Assert.Equal(43, a.Length);
        Assert.True(LiveLinks.IsWellFormed(a));
        Assert.NotEqual(a, LiveLinks.NewSecret());
        Assert.Equal(64, LiveLinks.Hash(a).Length);
    }

    [Fact]
    public void Redaction_MasksALiveLinkToken_InAnyLoggedText()
    {
        var token = LiveLinks.NewSecret();
        var secrets = new SecretValues(new ConfigurationBuilder().Build());

        var redacted = secrets.Redact($"Request starting HTTP/1.1 GET http://127.0.0.1:8080/live/{token} - and /live/{token}/ws");

        Assert.Equal("Request starting HTTP/1.1 GET http://127.0.0.1:8080/live/[REDACTED] - and /live/[REDACTED]/ws", redacted);
    }

    [Fact]
    public void MouseInput_IsScaledToTheViewport_AndClampedToIt()
    {
        Assert.Equal((320f, 400f), LiveInputEvents.Scale(0.25, 0.5, 1280, 800));
        Assert.Equal((1280f, 0f), LiveInputEvents.Scale(7, -1, 1280, 800));
    }

    [Fact]
    public void KeyNames_FollowPlaywright_AndUnknownKeysAreDropped()
    {
        Assert.Equal("Space", LiveInputEvents.KeyName(" "));
        Assert.Equal("Enter", LiveInputEvents.KeyName("Enter"));
        Assert.Equal("a", LiveInputEvents.KeyName("a"));
        Assert.Null(LiveInputEvents.KeyName("Unidentified"));
        Assert.Null(LiveInputEvents.KeyName(new string('x', 33)));
    }
}
