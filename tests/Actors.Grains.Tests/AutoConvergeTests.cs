using Actors.Grains.Migration;
using Xunit;

namespace Actors.Grains.Tests;

public sealed class AutoConvergeTests
{
    private const double Copy = 300e6;

    [Fact]
    public void A_guest_dirtying_at_most_half_the_copy_rate_is_left_alone()
    {
        Assert.Equal(0, AutoConverge.Next(0, Copy / 2, Copy));
        Assert.Equal(40, AutoConverge.Next(40, Copy / 10, Copy));
    }

    [Fact]
    public void A_guest_dirtying_as_fast_as_the_copy_is_throttled_to_a_quarter_of_the_copy_rate()
    {
        // At full speed it dirties at the copy rate: a quarter of that takes 75% of its time away.
        Assert.Equal(75, AutoConverge.Next(0, Copy, Copy));
        // Already at 50% it dirtied at the copy rate: its full-speed rate is twice that, so 87.5% → 88.
        Assert.Equal(88, AutoConverge.Next(50, Copy, Copy));
    }

    [Fact]
    public void A_guest_barely_over_half_the_copy_rate_loses_half_its_remaining_time_and_at_least_the_minimum_step()
    {
        Assert.Equal(51, AutoConverge.Next(0, (Copy / 2) + 1, Copy));
        Assert.Equal(76, AutoConverge.Next(50, (Copy / 2) + 1, Copy));
        Assert.Equal(90 + AutoConverge.MinimumStep - 1, AutoConverge.Next(90, (Copy / 2) + 1, Copy));
    }

    [Fact]
    public void The_throttle_never_passes_its_maximum_and_ignores_rates_it_cannot_use()
    {
        Assert.Equal(AutoConverge.MaxPercent, AutoConverge.Next(95, Copy * 100, Copy));
        Assert.Equal(AutoConverge.MaxPercent, AutoConverge.Next(AutoConverge.MaxPercent, Copy * 100, Copy));
        Assert.Equal(30, AutoConverge.Next(30, Copy, 0));
        Assert.Equal(30, AutoConverge.Next(30, double.NaN, Copy));
    }
}
