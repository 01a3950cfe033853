namespace Actors.Grains.Hosts;

/// <summary>How much guest RAM this host offers to VMs (not the machine's physical RAM: the operator's budget).</summary>
public sealed class HostMemoryOptions
{
    public const ulong DefaultBudgetBytes = 8UL << 30;

    public ulong BudgetBytes { get; set; } = DefaultBudgetBytes;
}
