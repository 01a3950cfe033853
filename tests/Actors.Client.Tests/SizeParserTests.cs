namespace Actors.Client.Tests;

public sealed class SizeParserTests
{
    [Theory]
    [InlineData("64M", 64UL << 20)]
    [InlineData("1G", 1UL << 30)]
    [InlineData("16384K", 16384UL << 10)]
    [InlineData("1048576", 1048576UL)]
    [InlineData("64m", 64UL << 20)]
    [InlineData("64MB", 64UL << 20)]
    [InlineData("64MiB", 64UL << 20)]
    [InlineData(" 2G ", 2UL << 30)]
    [InlineData("1T", 1UL << 40)]
    public void Parses_sizes_people_type(string text, ulong expected) =>
        Assert.Equal(expected, SizeParser.Parse(text));

    [Theory]
    [InlineData("12Q")]
    [InlineData("")]
    [InlineData("M")]
    [InlineData("-1M")]
    [InlineData("1.5G")]
    [InlineData("64 M B")]
    public void Refuses_what_is_not_a_size_with_the_fix(string text)
    {
        FormatException e = Assert.Throws<FormatException>(() => SizeParser.Parse(text));
        Assert.Equal($"bad size '{text}': use a number with K, M or G (for example 64M)", e.Message);
    }

    [Fact]
    public void Names_the_problem_for_the_example_in_the_design()
    {
        Assert.False(SizeParser.TryParse("12Q", out _, out string? error));
        Assert.StartsWith("bad size '12Q': use a number with K, M or G", error);
    }

    [Fact]
    public void Refuses_sizes_that_overflow()
    {
        Assert.False(SizeParser.TryParse("99999999999999G", out _, out string? error));
        Assert.Contains("too large", error);
    }

    [Theory]
    [InlineData(64UL << 20, "64M")]
    [InlineData(1UL << 30, "1G")]
    [InlineData(1536UL << 10, "1536K")]
    [InlineData(1000UL, "1000")]
    [InlineData(0UL, "0")]
    public void Formats_the_shortest_exact_form(ulong bytes, string expected) =>
        Assert.Equal(expected, SizeParser.Format(bytes));

    [Theory]
    [InlineData("64M")]
    [InlineData("1536K")]
    [InlineData("3G")]
    public void Format_and_parse_round_trip(string text) =>
        Assert.Equal(text, SizeParser.Format(SizeParser.Parse(text)));
}
