/**
 * The public API as the TypeScript checker sees it: every name lib/index.ts exports, and the call
 * signatures of the functions and public methods reachable from it (the root and its namespaces).
 */
import ts from 'typescript';
import { join } from 'node:path';

export interface ApiFunction {
  /** e.g. `dk.knn.lshIndexFactory` or `dk.DkNN#predict`. */
  name: string;
  /** Each overload's parameters: name, whether optional, and whether its type is a plain object type. */
  signatures: { name: string; optional: boolean; objectType: boolean; type: string }[][];
}

/** The root's export names and every public function and method (see the module comment). */
export function publicApi(root: string): { rootNames: string[]; functions: ApiFunction[] } {
  const entry = join(root, 'lib', 'index.ts');
  const program = ts.createProgram([entry], {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const rootExports = checker.getExportsOfModule(moduleSymbol);
  const functions: ApiFunction[] = [];
  const seen = new Set<ts.Symbol>();
  const isObjectType = (t: ts.Type): boolean => {
    const nonNull = checker.getNonNullableType(t);
    if (nonNull.isUnion() || nonNull.isIntersection()) return nonNull.types.every(isObjectType);
    if (!(nonNull.flags & ts.TypeFlags.Object)) return false;
    if (checker.isArrayType(nonNull) || checker.isTupleType(nonNull)) return false;
    if (nonNull.getCallSignatures().length > 0) return false;
    const name = nonNull.getSymbol()?.getName() ?? '';
    return !/Array$|^ArrayLike$|^LayersModel$|^Tensor/.test(name) && !name.endsWith('Array');
  };
  const describe = (sig: ts.Signature) =>
    sig.getParameters().map((p) => {
      const decl = p.valueDeclaration as ts.ParameterDeclaration | undefined;
      const type = checker.getTypeOfSymbol(p);
      return {
        name: p.getName(),
        optional: Boolean(decl && (decl.questionToken || decl.initializer || checker.isOptionalParameter(decl))),
        objectType: isObjectType(type),
        type: checker.typeToString(type),
      };
    });
  const visit = (symbol: ts.Symbol, path: string): void => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    if (seen.has(target)) return;
    seen.add(target);
    if (target.flags & ts.SymbolFlags.Module) {
      for (const s of checker.getExportsOfModule(target)) visit(s, `${path}.${s.getName()}`);
      return;
    }
    const decl = target.valueDeclaration;
    if (!decl) return;
    if (target.flags & ts.SymbolFlags.Function) {
      const sigs = checker.getTypeOfSymbolAtLocation(target, decl).getCallSignatures();
      functions.push({ name: path, signatures: sigs.map(describe) });
    } else if (target.flags & ts.SymbolFlags.Class) {
      const instance = checker.getDeclaredTypeOfSymbol(target);
      for (const member of instance.getProperties()) {
        const md = member.valueDeclaration;
        if (!md || !(member.flags & ts.SymbolFlags.Method)) continue;
        const mods = ts.getCombinedModifierFlags(md as ts.Declaration);
        if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) || member.getName().startsWith('#'))
          continue;
        const sigs = checker.getTypeOfSymbolAtLocation(member, md).getCallSignatures();
        functions.push({ name: `${path}#${member.getName()}`, signatures: sigs.map(describe) });
      }
    }
  };
  for (const s of rootExports) if (s.getName() !== 'tf') visit(s, `dk.${s.getName()}`);
  return { rootNames: rootExports.map((s) => s.getName()), functions };
}
