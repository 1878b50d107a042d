using System.Text;
using Anchor.Orleans.Grains.Browser;

namespace Anchor.Orleans.Grains.Tests.Browser;

/// <summary>What a hostile agent's transcript may not see of a request: credential headers and form fields.</summary>
public sealed class CredentialMaskingTests
{
    [Theory]
    [InlineData("authorization")]
    [InlineData("Proxy-Authorization")]
    [InlineData("cookie")]
    [InlineData("set-cookie")]
    [InlineData("x-api-key")]
    [InlineData("X-Auth-Token")]
    [InlineData("x-csrf-token")]
    [InlineData("x-xsrf-token")]
    [InlineData("x-amz-security-token")]
    [InlineData("x-goog-api-key")]
    [InlineData("x-session-id")]
    [InlineData("x-client-secret")]
    [InlineData("x-upstream-password")]
    [InlineData("www-authenticate")]
    [InlineData("dpop")]
    public void CredentialHeaders_AreHidden(string name) =>
        Assert.Equal("(hidden, 12 characters)", CredentialMasking.MaskHeader(name, "s3cr3t-value"));

    [Theory]
    [InlineData("content-type")]
    [InlineData("accept")]
    [InlineData("user-agent")]
    [InlineData(":authority")]
    [InlineData("referer")]
    [InlineData("content-length")]
    public void PlainHeaders_AreShown(string name) =>
        Assert.Equal("s3cr3t-value", CredentialMasking.MaskHeader(name, "s3cr3t-value"));

    [Theory]
    [InlineData("https://shop.example/search?q=kettle&page=2", "https://shop.example/search?q=kettle&page=2")]
    [InlineData("https://shop.example/api?access_token=abc123&q=x#frag", "https://shop.example/api?access_token=(hidden, 6 characters)&q=x")]
    [InlineData("https://user:pw@shop.example/cb?code=1&state=2&X-Amz-Signature=ffff", "https://shop.example/cb?code=1&state=2&X-Amz-Signature=(hidden, 4 characters)")]
    [InlineData("https://shop.example/", "https://shop.example/")]
    [InlineData("data:text/html,<p>hi?token=x", "data:text/html,<p>hi")]
    public void Url_KeepsItsQuery_WithCredentialValuesHidden_AndNoUserInfoOrFragment(string url, string expected) =>
        Assert.Equal(expected, CredentialMasking.MaskUrl(url));

    [Fact]
    public void UrlEncodedForm_CredentialFieldsHidden_OthersShown()
    {
        var body = "user=ann&password=hunter2&csrf_token=abc123&remember=1&api%5Fkey=k-9";

        Assert.Equal(
            "user=ann&password=(hidden, 7 characters)&csrf_token=(hidden, 6 characters)&remember=1&api%5Fkey=(hidden, 3 characters)",
            CredentialMasking.MaskBody(body, "application/x-www-form-urlencoded; charset=UTF-8"));
    }

    [Fact]
    public void Json_CredentialMembersHiddenAtAnyDepth_OthersShown()
    {
        var body = """{"user":"ann","password":"hunter2","nested":{"refreshToken":"r.t.x","pin_code":1234,"note":"hi \"there\""},"list":[{"client_secret":"cs"}]}""";

        Assert.Equal(
            """{"user":"ann","password":"(hidden, 7 characters)","nested":{"refreshToken":"(hidden, 5 characters)","pin_code":1234,"note":"hi \"there\""},"list":[{"client_secret":"(hidden, 2 characters)"}]}""",
            CredentialMasking.MaskBody(body, "application/json"));
    }

    [Fact]
    public void Json_CutShortInsideASecret_StillHidesIt()
    {
        var body = """{"user":"ann","access_token":"eyJhbGciOiJIUzI1""";

        Assert.Equal("""{"user":"ann","access_token":"(hidden, 16 characters)" """.TrimEnd(), CredentialMasking.MaskBody(body, "application/json"));
    }

    [Fact]
    public void MultipartForm_CredentialFieldsHidden_FilesShowOnlyTheirSize()
    {
        var body = "--XyZ\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nann\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nhunter2\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\nPNGDATA\r\n"
            + "--XyZ--\r\n";

        var masked = CredentialMasking.MaskBody(body, "multipart/form-data; boundary=XyZ");

        Assert.Equal(
            "--XyZ\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nann\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n(hidden, 7 characters)\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n(file of 7 bytes; not shown)\r\n"
            + "--XyZ--\r\n",
            masked);
    }

    [Fact]
    public void RequestBody_FormWithPassword_IsShownMasked()
    {
        var body = Encoding.UTF8.GetBytes("login=ann&pwd=hunter2");

        Assert.Equal("login=ann&pwd=(hidden, 7 characters)", RequestDetails.RequestBody(body, "application/x-www-form-urlencoded"));
    }
}
