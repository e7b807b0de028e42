"""The business models (docs/contract.md): staging, intermediate and marts, one module per area.

Every model is a plain function of upstream tables returning an Ibis expression; nothing here
connects, reads files or prints. `ecom` discovers the models by importing every module of this
package.
"""
