namespace Djag.IntegrationTests;

public sealed class SmokeTests
{
    [Fact]
    public void Builds() => Assert.True(true);
}
