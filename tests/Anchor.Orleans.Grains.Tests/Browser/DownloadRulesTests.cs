using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Browser.Downloads;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Tests.Browser;

/// <summary>The pure rules of a session's downloads: names shown, media types, the bound, what gives way, the listing, the options.</summary>
public sealed class DownloadRulesTests
{
    private const long Mb = 1024 * 1024;

    [Theory]
    [InlineData("report.csv", "report.csv")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("C:\\Users\\x\\evil.exe", "evil.exe")]
    [InlineData("a\u0000b\nc?.txt", "abc.txt")]
    [InlineData("..", "download")]
    [InlineData("", "download")]
    [InlineData(null, "download")]
    public void NameOf_KeepsTheLastSegmentWithoutControlsOrSeparators(string? suggested, string expected) =>
        Assert.Equal(expected, DownloadRules.NameOf(suggested));

    [Fact]
    public void NameOf_CutsLongNames() =>
        Assert.Equal(new string('a', DownloadRules.MaxNameChars), DownloadRules.NameOf(new string('a', 500)));

    [Theory]
    [InlineData("report.csv", "text/csv")]
    [InlineData("INVOICE.PDF", "application/pdf")]
    [InlineData("export.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")]
    [InlineData("blob", "application/octet-stream")]
    [InlineData("setup.exe", "application/octet-stream")]
    public void TypeOf_ReadsTheExtension(string name, string expected) => Assert.Equal(expected, DownloadRules.TypeOf(name));

    [Fact]
    public void Refusal_IsNullUpToTheBound_AndSaysTheKeyAndSizePastIt()
    {
        Assert.Null(DownloadRules.Refusal("a.csv", 50 * Mb, 50 * Mb));
        Assert.Equal(
            "browser_error: download exceeds Browser:MaxDownloadBytes (50 MB): big.csv is 52428801 bytes; it was deleted and is not held. The session continues.",
            DownloadRules.Refusal("big.csv", (50 * Mb) + 1, 50 * Mb));
    }

    [Theory]
    [InlineData(52428800, "50 MB")]
    [InlineData(524288, "512 KB")]
    [InlineData(1000, "1000 bytes")]
    [InlineData(1572864, "1536 KB")]
    public void Size_SaysWholeUnits(long bytes, string expected) => Assert.Equal(expected, DownloadRules.Size(bytes));

    [Fact]
    public void ToEvict_DropsNothing_WhenTheNewFileFits() =>
        Assert.Equal(0, DownloadRules.ToEvict([10, 20], 30, 100));

    [Fact]
    public void ToEvict_DropsTheOldest_UntilTheBytesFit() =>
        Assert.Equal(2, DownloadRules.ToEvict([40, 30, 20], 60, 100));

    [Fact]
    public void ToEvict_DropsTheOldest_PastTheFileCount() =>
        Assert.Equal(1, DownloadRules.ToEvict([.. Enumerable.Repeat(1L, DownloadRules.MaxHeld)], 1, long.MaxValue));

    [Fact]
    public void IsDownloadStart_RecognisesPlaywrightsNavigationMessage()
    {
        Assert.True(DownloadRules.IsDownloadStart("Download is starting\nCall log: ..."));
        Assert.False(DownloadRules.IsDownloadStart("net::ERR_ABORTED"));
    }

    [Fact]
    public void Render_ListsIndexNameSizeAndType() => Assert.Equal(
        "### Downloads\n- index 0: report.csv (2097152 bytes, text/csv); fetch it with browser_download { index: 0 }\n- index 1: b.bin (3 bytes, application/octet-stream); fetch it with browser_download { index: 1 }\n",
        DownloadRules.Render([new DownloadInfo(0, "report.csv", 2 * Mb, "text/csv"), new DownloadInfo(1, "b.bin", 3, "application/octet-stream")]));

    [Fact]
    public void Append_AddsASection_ToAPageStateAnswer() => Assert.Equal(
        "### Result\nClicked\n\n### Downloads\n- index 2: a.csv (5 bytes, text/csv); fetch it with browser_download { index: 2 }\n",
        DownloadRules.Append("### Result\nClicked\n", [new DownloadInfo(2, "a.csv", 5, "text/csv")]));

    [Fact]
    public void Append_AddsAnArray_ToAJsonAnswer_WhichStaysJson() => Assert.Equal(
        """{"steps":[{"action":"click","ok":true}],"downloads":[{"index":0,"name":"a.csv","size":5,"type":"text/csv"}]}""",
        DownloadRules.Append("""{"steps":[{"action":"click","ok":true}]}""", [new DownloadInfo(0, "a.csv", 5, "text/csv")]));

    [Fact]
    public void Validator_RefusesADownloadBoundPastTheSessionsByteBudget()
    {
        var result = new BrowserOptionsValidator().Validate(null, new BrowserOptions { MaxDownloadBytes = 300 * Mb });

        Assert.Equal(
            ["Anchor:Browser:MaxDownloadBytes (314572800) must be at most Anchor:Browser:MaxSessionBytesPerMinute (268435456): a download's bytes count in the session's budget."],
            result.Failures);
    }

    [Fact]
    public async Task Store_AnswersInvalidArgument_ForAnIndexItDoesNotHold_AndLeavesNoDirectory()
    {
        var store = new SessionDownloads(50 * Mb);

        var failure = await Assert.ThrowsAsync<AnchorException>(() => store.ReadAsync(0, TestContext.Current.CancellationToken));
        store.Dispose();

        Assert.Equal(ErrorCodes.InvalidArgument, failure.Code);
        Assert.Equal("invalid_argument: there is no download 0 in this session (it holds none); downloads are listed in the result of the action that made them and deleted when the session ends or moves.", failure.Message);
        Assert.False(Directory.Exists(store.Directory));
        Assert.StartsWith(SessionDownloads.Root, store.Directory, StringComparison.Ordinal);
    }
}
