using System.Text.Json;
using Anchor.Orleans.Grains.Timeline;

namespace Anchor.Orleans.Grains.Tests.Timeline;

public sealed class TimelineArgumentsTests
{
    private static Dictionary<string, JsonElement> Args(object value) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(value))!;

    [Fact]
    public void Mask_HidesTypedText_WhenTheTargetNamesAPassword()
    {
        var masked = TimelineArguments.Mask(Args(new { text = "hunter2!", element = "Password textbox", @ref = "e7", session_id = "s-1" }))!;

        Assert.Equal("(hidden, 8 characters)", masked["text"]);
        Assert.Equal("Password textbox", masked["element"]);
        Assert.Equal("e7", masked["ref"]);
        Assert.False(masked.ContainsKey("session_id"));
    }

    [Fact]
    public void Mask_KeepsTypedText_WhenTheTargetNamesNoCredential()
    {
        var masked = TimelineArguments.Mask(Args(new { text = "Ada", target = "#name" }))!;

        Assert.Equal("Ada", masked["text"]);
    }

    [Fact]
    public void Mask_HidesTheValueOfACredentialFormField_AndKeepsTheOthers()
    {
        var masked = TimelineArguments.Mask(Args(new
        {
            fields = new object[]
            {
                new { name = "User", type = "textbox", target = "e3", value = "ada" },
                new { name = "Secret answer", type = "textbox", target = "e4", value = "blue" },
            },
        }))!;

        Assert.Equal(
            """[{"name":"User","type":"textbox","target":"e3","value":"ada"},{"name":"Secret answer","type":"textbox","target":"e4","value":"(hidden, 4 characters)"}]""",
            masked["fields"]);
    }

    [Fact]
    public void Mask_HidesUrlCredentials_AndCredentialQueryParameters()
    {
        var masked = TimelineArguments.Mask(Args(new { url = "https://user:pw@example.com/a?page=2&access_token=abc123" }))!;

        Assert.Equal("https://example.com/a?page=2&access_token=(hidden, 6 characters)", masked["url"]);
    }

    [Fact]
    public void Mask_KeepsAKeyName_WhenItIsTheArgumentNotATarget()
    {
        var masked = TimelineArguments.Mask(Args(new { key = "Enter" }))!;

        Assert.Equal("Enter", masked["key"]);
    }

    [Fact]
    public void Mask_CutsLongValues_AndSaysHowLongTheyWere()
    {
        var masked = TimelineArguments.Mask(Args(new { function = new string('x', 1000) }))!;

        Assert.Equal(new string('x', TimelineArguments.MaxValueLength) + "… (1000 characters)", masked["function"]);
    }

    [Fact]
    public void Mask_AppliesTheRedaction_ToEveryString()
    {
        var masked = TimelineArguments.Mask(Args(new { text = "use sk-live-123 here", target = "#q" }), t => t.Replace("sk-live-123", "[REDACTED]", StringComparison.Ordinal))!;

        Assert.Equal("use [REDACTED] here", masked["text"]);
    }

    [Fact]
    public void Mask_AnswersNull_WithoutArguments()
    {
        Assert.Null(TimelineArguments.Mask(null));
        Assert.Null(TimelineArguments.Mask(Args(new { })));
    }
}
