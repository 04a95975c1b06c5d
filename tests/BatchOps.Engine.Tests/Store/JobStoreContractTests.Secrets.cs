using System.Text;
using System.Text.Json;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Tests.Store;

/// <summary>Stores written before secrets were kept out: the migration takes them out of every script-block definition.</summary>
public abstract partial class JobStoreContractTests
{
    /// <summary>The password, as CliXml on Linux writes a PSCredential's SecureString: its UTF-16LE bytes in hex.</summary>
    protected const string OldPassword = "Pa55-word-XYZ";

    protected const string OldToken = "tok-9f8e7d6c5b4a";

    protected static string OldPasswordHex => Convert.ToHexString(Encoding.Unicode.GetBytes(OldPassword));

    /// <summary>Sets the store's schema version back to the one before the secrets were taken out, as an older BatchOps left it.</summary>
    protected abstract Task RewindBeforeSecretsScrubAsync();

    /// <summary>Every byte the store wrote (files, or the jobs table as a dump would read it).</summary>
    protected abstract Task<byte[]> StoredBytesAsync();

    /// <summary>A script-block definition as the module wrote it before: a credential, a token and a harmless value among its $using: values.</summary>
    protected static string OldScriptOperation() => JsonSerializer.Serialize(new ScriptOperationSpec
    {
        Script = "$using:cred; $using:token; $using:servers",
        UsingValues = new()
        {
            ["cred"] = $"<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><Obj RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCredential</T><T>System.Object</T></TN><ToString>System.Management.Automation.PSCredential</ToString><Props><S N=\"UserName\">admin</S><SS N=\"Password\">{OldPasswordHex}</SS></Props></Obj></Objs>",
            ["token"] = $"<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S>{OldToken}</S></Objs>",
            ["servers"] = "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S>web01</S></Objs>",
        },
    }, StoreJson.Options);

    [Fact]
    public async Task Open_StoreWhoseScriptJobsHeldSecrets_TakesThemOut_AndKeepsTheRest()
    {
        var job = NewJob("old-secrets") with { OperationKind = ScriptOperationSpec.Kind, Operation = OldScriptOperation() };
        using (var store = CreateSut())
        {
            await store.CreateJobAsync(job);
            await store.AddItemsAsync(job.Id, [new StoredItem { Index = 0, Input = "x" }]);
            Assert.Contains(OldPasswordHex, Encoding.UTF8.GetString(await StoredBytesAsync()), StringComparison.Ordinal);
        }

        await RewindBeforeSecretsScrubAsync();
        using var reopened = OpenSecond();

        var read = (await reopened.GetJobAsync(job.Id))!;
        var spec = JsonSerializer.Deserialize<ScriptOperationSpec>(read.Operation, StoreJson.Options)!;
        Assert.Equal(["servers"], spec.UsingValues.Keys);
        Assert.Equal(["cred", "token"], spec.SecretUsings.Order());
        Assert.NotNull(spec.SecretsId);
        var bytes = await StoredBytesAsync();
        foreach (var secret in new[] { OldPasswordHex, OldPasswordHex.ToLowerInvariant(), OldToken, OldPassword })
        {
            Assert.False(Contains(bytes, Encoding.UTF8.GetBytes(secret)), $"'{secret}' is still in the store");
            Assert.False(Contains(bytes, Encoding.Unicode.GetBytes(secret)), $"'{secret}' (UTF-16) is still in the store");
        }
    }

    protected static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
